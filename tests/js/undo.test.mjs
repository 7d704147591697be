// Undoable actions (frontend/js/undo.js): committed when the time is up, never when undone.
import assert from "node:assert/strict";
import { test } from "node:test";

import { UNDO_MS, Undoable } from "../../frontend/js/undo.js";

/** A clock the test moves by hand. */
function fakeTimers() {
  let now = 0;
  const timers = new Map();
  let next = 1;
  return {
    setTimer: (run, ms) => {
      timers.set(next, { run, at: now + ms });
      return next++;
    },
    clearTimer: (id) => timers.delete(id),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(id);
          timer.run();
        }
      }
    },
    get pending() {
      return timers.size;
    },
  };
}

test("committed when the time is up, once, and not before", () => {
  const clock = fakeTimers();
  const done = [];
  const undo = new Undoable((id, item) => done.push([id, item]), clock);
  undo.start("n1", "note one");
  clock.advance(UNDO_MS - 1);
  assert.deepEqual(done, []);
  assert.equal(undo.has("n1"), true);
  clock.advance(1);
  assert.deepEqual(done, [["n1", "note one"]]);
  assert.equal(undo.has("n1"), false);
  clock.advance(UNDO_MS * 3);
  assert.equal(done.length, 1);
});

test("an undone action is never committed, and undo says what it took back", () => {
  const clock = fakeTimers();
  const done = [];
  const undo = new Undoable((id) => done.push(id), clock);
  undo.start("n1", "note one");
  undo.start("n2", "note two");
  clock.advance(1000);
  assert.equal(undo.undo("n1"), "note one");
  assert.equal(undo.undo("n1"), null, "twice is nothing");
  clock.advance(UNDO_MS);
  assert.deepEqual(done, ["n2"]);
  assert.equal(undo.undo("n2"), null, "too late: already committed");
  assert.equal(clock.pending, 0, "no timer is left behind");
});

test("starting the same again does not restart its time or commit it twice", () => {
  const clock = fakeTimers();
  const done = [];
  const undo = new Undoable((id) => done.push(id), clock);
  undo.start("n1", "a");
  clock.advance(UNDO_MS - 100);
  undo.start("n1", "a");
  clock.advance(100);
  assert.deepEqual(done, ["n1"]);
});

test("flush commits everything still waiting, now (the page is being left)", () => {
  const clock = fakeTimers();
  const done = [];
  const undo = new Undoable((id) => done.push(id), { ...clock, delayMs: 5000 });
  undo.start("n1", "a");
  undo.start("n2", "b");
  undo.undo("n2");
  undo.flush();
  assert.deepEqual(done, ["n1"]);
  clock.advance(10000);
  assert.deepEqual(done, ["n1"]);
});
