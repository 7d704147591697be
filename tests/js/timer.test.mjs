// The countdown (frontend/js/timer.js): "time is up" ends with the phase or the timer.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Countdown } from "../../frontend/js/timer.js";

const START = Date.parse("2026-03-10T09:00:00Z");
const ENDS = "2026-03-10T09:05:00Z";
const at = (seconds) => START + seconds * 1000;

test("a running timer counts down in whole seconds, corrected by the server's clock", () => {
  const countdown = new Countdown();
  const settings = { timer_ends_at: ENDS, phase: "reflect" };
  assert.deepEqual(countdown.read(settings, at(0)), { shown: true, left: 300, done: false });
  assert.deepEqual(countdown.read(settings, at(299.2)), { shown: true, left: 1, done: false });
  // Our clock is 10 s behind the server's: 10 s less left than our clock says.
  assert.deepEqual(countdown.read(settings, at(0), 10_000), { shown: true, left: 290, done: false });
  assert.deepEqual(countdown.read({ timer_ends_at: null, phase: "reflect" }, at(1)), { shown: false, left: null, done: false });
});

test("time is up until the phase changes, then nothing is shown", () => {
  const countdown = new Countdown();
  assert.deepEqual(countdown.read({ timer_ends_at: ENDS, phase: "reflect" }, at(301)), { shown: true, left: 0, done: true });
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "reflect" }, at(900)).shown, true);
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "document" }, at(901)).shown, false);
  // And it stays gone in the next phase, and the one after.
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "document" }, at(960)).shown, false);
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "reflect" }, at(961)).shown, false);
});

test("a phase change while the timer runs does not stop it; a new timer starts afresh", () => {
  const countdown = new Countdown();
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "grade" }, at(10)).left, 290);
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "reflect" }, at(20)).left, 280);
  // It runs out in "reflect": time is up there.
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "reflect" }, at(300)).done, true);
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "reflect" }, at(300)).shown, true);
  assert.equal(countdown.read({ timer_ends_at: ENDS, phase: "document" }, at(301)).shown, false);
  const next = "2026-03-10T09:10:00Z";
  assert.deepEqual(countdown.read({ timer_ends_at: next, phase: "document" }, at(360)), { shown: true, left: 240, done: false });
});
