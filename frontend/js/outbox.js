// Commands not yet acknowledged, kept across reconnects and page reloads so that nothing a
// person wrote offline is lost. The server applies each cid once, so re-sending is safe.
// Pure: storage is injected (tested with `node --test`).

export class Outbox {
  constructor(items = []) {
    this.items = items.filter((item) => item && typeof item.cid === "string");
  }

  static load(storage, key) {
    try {
      return new Outbox(JSON.parse(storage.getItem(key) ?? "[]"));
    } catch {
      return new Outbox();
    }
  }

  save(storage, key) {
    if (this.items.length) storage.setItem(key, JSON.stringify(this.items));
    else storage.removeItem(key);
  }

  /**
   * Queue a command. A newer score for the same statement and kind replaces an older one not
   * yet answered: the server keeps only the last anyway. "Today" and "desired" are two
   * answers, so one never replaces the other.
   */
  add(command) {
    if (command.type === "set_score") {
      this.items = this.items.filter((item) => !sameAnswer(item, command));
    }
    this.items.push(command);
  }

  /** The newest score not yet answered for a statement (and kind), or undefined. */
  pendingScore(statementId, kind = "today") {
    return this.items.findLast((item) => sameAnswer(item, { type: "set_score", statement_id: statementId, kind }));
  }

  /** The server answered (ack or error) for this cid: it is no longer pending. */
  settle(cid) {
    const before = this.items.length;
    this.items = this.items.filter((item) => item.cid !== cid);
    return before !== this.items.length;
  }

  get size() {
    return this.items.length;
  }

  pending() {
    return [...this.items];
  }

  /** Notes written but not yet stored, to show them as pending. */
  pendingNotes() {
    return this.items.filter((item) => item.type === "add_note");
  }
}

function sameAnswer(a, b) {
  return a.type === "set_score" && b.type === "set_score" && a.statement_id === b.statement_id && (a.kind ?? "today") === (b.kind ?? "today");
}

/** A client command id unique enough across devices and reloads. */
export function newCid(random = Math.random, now = Date.now) {
  const part = () => Math.floor(random() * 0x100000000).toString(36);
  return `${now().toString(36)}-${part()}${part()}`;
}
