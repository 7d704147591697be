// The countdown as every page shows it: from the server's end time, corrected by our clock's
// offset to the server's. Pure (tested with `node --test`).
//
// A timer that ran out says so ("Tiden är ute") until the workshop moves on: the server
// keeps its end time until the facilitator stops it, but once the phase changes, the red
// "time is up" of the last phase would only mislead. A running timer is not touched by a
// phase change: the facilitator may time a break across it.

import { secondsLeft } from "./format.js";

export class Countdown {
  constructor() {
    this.endsAt = null;
    this.donePhase = null;
    this.dismissed = false;
  }

  /**
   * What to show now: `{ shown, left, done }`, `left` in whole seconds (0 once done).
   * @param {{timer_ends_at: string|null, phase: string}|null} settings
   */
  read(settings, nowMs, serverOffsetMs = 0) {
    const endsAt = settings?.timer_ends_at ?? null;
    if (endsAt !== this.endsAt) {
      this.endsAt = endsAt;
      this.donePhase = null;
      this.dismissed = false;
    }
    const left = secondsLeft(endsAt, nowMs, serverOffsetMs);
    if (left === null) return { shown: false, left: null, done: false };
    if (left > 0) {
      this.donePhase = null;
      return { shown: true, left, done: false };
    }
    this.donePhase ??= settings.phase;
    // Once the workshop has moved on, this timer's "time is up" is over for good.
    this.dismissed ||= settings.phase !== this.donePhase;
    return { shown: !this.dismissed, left: 0, done: true };
  }
}
