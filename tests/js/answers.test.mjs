// What the grading shows and chooses (frontend/js/answers.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { UNKNOWN, VALUES, answerForKey, answeredCount, currentAnswer, previousAnswerShown, step } from "../../frontend/js/answers.js";
import { Outbox, applyMessage, initialState } from "../../frontend/js/state.js";

function room(myScores = {}, myDesiredScores = {}) {
  const state = initialState();
  state.template = { statements: [{ id: "s1" }, { id: "s2" }, { id: "s3" }] };
  state.myScores = { ...myScores };
  state.myDesiredScores = { ...myDesiredScores };
  return state;
}

const score = (cid, statement, value, kind) => ({ type: "set_score", cid, statement_id: statement, value, ...(kind ? { kind } : {}) });

test("an answer on its way shows until the server answers; then the stored one", () => {
  const state = room({ s1: 4 });
  const outbox = new Outbox();
  assert.equal(currentAnswer(state, outbox, "s1"), 4);
  assert.equal(currentAnswer(state, outbox, "s2"), null, "no answer is null, not a value");
  outbox.add(score("c1", "s1", 5));
  assert.equal(currentAnswer(state, outbox, "s1"), 5);
  outbox.add(score("c2", "s1", null));
  assert.equal(currentAnswer(state, outbox, "s1"), null, "a clear on its way is shown as cleared");
  // Refused (an error settles it): the stored answer shows again, not the refused one.
  outbox.settle("c2");
  assert.equal(currentAnswer(state, outbox, "s1"), 4);
});

test("today's and the desired answer are read apart", () => {
  const state = room({ s1: 3 }, { s1: 9 });
  const outbox = new Outbox();
  assert.equal(currentAnswer(state, outbox, "s1", "today"), 3);
  assert.equal(currentAnswer(state, outbox, "s1", "desired"), 9);
  outbox.add(score("c1", "s1", 10, "desired"));
  assert.equal(currentAnswer(state, outbox, "s1"), 3);
  assert.equal(currentAnswer(state, outbox, "s1", "desired"), 10);
});

test("answered counts grades and don't-knows, today's only, pending ones included", () => {
  const state = room({ s1: 2, s2: UNKNOWN }, { s3: 5 });
  const outbox = new Outbox();
  assert.equal(answeredCount(state, outbox), 2);
  outbox.add(score("c1", "s3", 7));
  assert.equal(answeredCount(state, outbox), 3);
  outbox.add(score("c2", "s1", null));
  assert.equal(answeredCount(state, outbox), 2);
});

test("a new round starts with nothing answered and last round's answers put aside", () => {
  const state = room({ s1: 4, s2: UNKNOWN });
  state.settings = { round: 1 };
  applyMessage(state, { seq: 5, type: "round_started", round: 2 });
  const outbox = new Outbox();
  assert.equal(currentAnswer(state, outbox, "s1"), null);
  assert.equal(answeredCount(state, outbox), 0);
  assert.deepEqual(state.myPreviousScores, { s1: 4, s2: UNKNOWN });
});

test("last round's answer is shown only once this round's is given", () => {
  assert.equal(previousAnswerShown(4, null), null);
  assert.equal(previousAnswerShown(4, undefined), null);
  assert.equal(previousAnswerShown(4, 7), 4);
  assert.equal(previousAnswerShown(4, UNKNOWN), 4, "don't know is an answer");
  assert.equal(previousAnswerShown(UNKNOWN, 2), UNKNOWN);
  assert.equal(previousAnswerShown(null, 7), null);
  assert.equal(previousAnswerShown(undefined, 7), null);
});

test("digits choose 1–9, 0 is 10, the language's letter is don't know; nothing else", () => {
  const key = (key, mods = {}) => answerForKey({ key, ctrlKey: false, altKey: false, metaKey: false, ...mods }, "v");
  assert.deepEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"].map((k) => key(k)), VALUES);
  assert.equal(key("v"), UNKNOWN);
  assert.equal(key("V"), UNKNOWN);
  assert.equal(answerForKey({ key: "d" }, "d"), UNKNOWN);
  for (const other of ["a", "Enter", " ", "ArrowRight", "Tab", "F5", "-"]) assert.equal(key(other), null, other);
  assert.equal(key("5", { ctrlKey: true }), null, "Ctrl+5 is the browser's");
  assert.equal(key("1", { altKey: true }), null);
  assert.equal(key("7", { metaKey: true }), null);
  assert.equal(answerForKey({ key: "v" }, ""), null, "no letter, no shortcut");
});

test("step: the next or previous place, none past either end", () => {
  assert.equal(step(0, 10, 1), 1);
  assert.equal(step(8, 10, 1), 9);
  assert.equal(step(9, 10, 1), null);
  assert.equal(step(0, 10, -1), null);
  assert.equal(step(5, 10, -1), 4);
});
