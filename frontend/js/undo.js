// Things done that can still be undone for a moment: each is committed when its time is up,
// or at once when the page goes away. Until then nothing has left this device, so an undone
// delete is never seen by anyone else. Pure: timers are injected (tested with `node --test`).

export const UNDO_MS = 8000;

export class Undoable {
  /**
   * @param {(id: string, item: any) => void} commit  what to do when the time is up
   * @param {{delayMs?: number, setTimer?: Function, clearTimer?: Function}} options
   */
  constructor(commit, { delayMs = UNDO_MS, setTimer = (run, ms) => setTimeout(run, ms), clearTimer = (timer) => clearTimeout(timer) } = {}) {
    this.commit = commit;
    this.delayMs = delayMs;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.waiting = new Map(); // id -> { item, timer }
  }

  start(id, item) {
    if (this.waiting.has(id)) return;
    const timer = this.setTimer(() => this.finish(id), this.delayMs);
    this.waiting.set(id, { item, timer });
  }

  has(id) {
    return this.waiting.has(id);
  }

  /** Take it back: returns the item, or null if it was committed already (or never started). */
  undo(id) {
    const entry = this.waiting.get(id);
    if (!entry) return null;
    this.clearTimer(entry.timer);
    this.waiting.delete(id);
    return entry.item;
  }

  finish(id) {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.clearTimer(entry.timer);
    this.waiting.delete(id);
    this.commit(id, entry.item);
  }

  /** Commit everything still waiting, now (the page is being left). */
  flush() {
    for (const id of [...this.waiting.keys()]) this.finish(id);
  }
}
