// Commands not yet acknowledged, kept across reconnects and reloads (frontend/js/state.js, its outbox).
import assert from "node:assert/strict";
import { test } from "node:test";

import { Outbox, newCid } from "../../frontend/js/state.js";

/** A stand-in for localStorage: strings only, like the real one. */
class FakeStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

const score = (cid, statement, value) => ({ type: "set_score", cid, statement_id: statement, value });
const addNote = (cid, text, area = "thoughts") => ({ type: "add_note", cid, area_id: area, text, color: "yellow" });

test("a newer score for the same statement replaces the unsent older one", () => {
  const outbox = new Outbox();
  outbox.add(score("c1", "s1", 3));
  outbox.add(score("c2", "s2", 8));
  outbox.add(score("c3", "s1", 4));
  outbox.add(score("c4", "s1", 5));
  assert.equal(outbox.size, 2);
  assert.deepEqual(
    outbox.pending().map((c) => [c.cid, c.statement_id, c.value]),
    [["c2", "s2", 8], ["c4", "s1", 5]],
  );
});

test("today's and the desired answer to one statement are two answers: neither replaces the other", () => {
  const outbox = new Outbox();
  outbox.add(score("c1", "s1", 7));
  outbox.add({ ...score("c2", "s1", 9), kind: "desired" });
  outbox.add({ ...score("c3", "s1", 6), kind: "today" });
  outbox.add({ ...score("c4", "s1", 10), kind: "desired" });
  assert.deepEqual(
    outbox.pending().map((c) => [c.cid, c.kind ?? "today", c.value]),
    [["c3", "today", 6], ["c4", "desired", 10]],
  );
  assert.equal(outbox.pendingScore("s1").value, 6);
  assert.equal(outbox.pendingScore("s1", "today").cid, "c3");
  assert.equal(outbox.pendingScore("s1", "desired").value, 10);
  assert.equal(outbox.pendingScore("s2"), undefined);
  outbox.add(score("c5", "s2", null));
  assert.equal(outbox.pendingScore("s2").value, null, "a pending clear is a pending answer too");
});

test("notes and other commands are never coalesced", () => {
  const outbox = new Outbox();
  outbox.add(addNote("c1", "Ett"));
  outbox.add(addNote("c2", "Ett"));
  outbox.add({ type: "edit_note", cid: "c3", note_id: "n1", text: "x" });
  outbox.add({ type: "edit_note", cid: "c4", note_id: "n1", text: "y" });
  outbox.add(score("c5", "s1", null));
  assert.equal(outbox.size, 5);
});

test("settle removes exactly the answered command and says whether it was pending", () => {
  const outbox = new Outbox();
  outbox.add(addNote("c1", "Ett"));
  outbox.add(addNote("c2", "Två"));
  assert.equal(outbox.settle("c1"), true);
  assert.equal(outbox.settle("c1"), false, "an answer to a re-sent command comes twice");
  assert.equal(outbox.settle("unknown"), false);
  assert.deepEqual(outbox.pending().map((c) => c.cid), ["c2"]);
});

test("pending() is a copy: changing it does not change the outbox", () => {
  const outbox = new Outbox();
  outbox.add(addNote("c1", "Ett"));
  outbox.pending().pop();
  assert.equal(outbox.size, 1);
});

test("pendingNotes lists only notes still to be stored, in order", () => {
  const outbox = new Outbox();
  outbox.add(addNote("c1", "Ett"));
  outbox.add(score("c2", "s1", 7));
  outbox.add(addNote("c3", "Två", "now"));
  assert.deepEqual(outbox.pendingNotes().map((c) => c.text), ["Ett", "Två"]);
  outbox.settle("c1");
  assert.deepEqual(outbox.pendingNotes().map((c) => c.text), ["Två"]);
});

test("it survives a reload through storage, and an empty outbox leaves nothing behind", () => {
  const storage = new FakeStorage();
  const key = "samskapa:outbox:room-1:p";
  const outbox = new Outbox();
  outbox.add(addNote("c1", "Skriven offline"));
  outbox.add(score("c2", "s3", 6));
  outbox.save(storage, key);
  assert.equal(typeof storage.getItem(key), "string");

  const reloaded = Outbox.load(storage, key);
  assert.deepEqual(reloaded.pending(), outbox.pending());
  reloaded.settle("c1");
  reloaded.settle("c2");
  reloaded.save(storage, key);
  assert.equal(storage.getItem(key), null);
  assert.equal(Outbox.load(storage, key).size, 0);
});

test("damaged storage gives an empty outbox, and items without a cid are dropped", () => {
  assert.equal(Outbox.load(new FakeStorage({ k: "{not json" }), "k").size, 0);
  assert.equal(Outbox.load(new FakeStorage(), "k").size, 0);
  const mixed = JSON.stringify([addNote("c1", "Ok"), { type: "add_note", text: "no cid" }, null, 7]);
  assert.deepEqual(Outbox.load(new FakeStorage({ k: mixed }), "k").pending().map((c) => c.cid), ["c1"]);
});

test("newCid is unique enough and fits the protocol's 64 characters", () => {
  let n = 0;
  const counter = () => (n++ % 97) / 97;
  const cids = new Set(Array.from({ length: 50 }, () => newCid(Math.random)));
  assert.equal(cids.size, 50);
  const fixed = newCid(counter, () => 1_700_000_000_000);
  assert.match(fixed, /^[0-9a-z]+-[0-9a-z]+$/);
  assert.ok(fixed.length <= 64);
  assert.ok(fixed.startsWith((1_700_000_000_000).toString(36)));
});
