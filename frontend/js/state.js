// The room as this browser knows it: what the server said, built only by applying its
// messages in order, and what this browser asked for that the server has not yet answered
// (the outbox, below). Pure: no DOM, no sockets, storage injected (tested with `node --test`).

// The events that each change one field of the room's flow: setting <- the event's field.
const FLOW_EVENTS = {
  phase_changed: ["phase", "phase"],
  results_visibility: ["results_visible", "visible"],
  voting_locked: ["voting_locked", "locked"],
  timer_changed: ["timer_ends_at", "ends_at"],
  screen_changed: ["screen", "screen"],
};

export function initialState() {
  return {
    epoch: null,
    seq: 0,
    you: null,
    roomId: null,
    settings: null,
    template: null,
    notes: new Map(),
    myVotes: new Set(),
    myScores: {},
    myPreviousScores: {},
    myDesiredScores: {},
    participants: new Map(),
    spectrum: null,
    // What each number counts: docs/protocol.md, `presence`.
    presence: { online: 0, participants: 0, consoles: 0, screens: 0 },
    serverOffsetMs: 0,
    deleted: false,
  };
}

function applySnapshot(state, snapshot) {
  state.roomId = snapshot.room_id;
  state.settings = { ...snapshot.settings };
  state.template = snapshot.template;
  state.notes = new Map(snapshot.notes.map((note) => [note.id, note]));
  state.myVotes = new Set(snapshot.my_votes);
  state.myScores = { ...snapshot.my_scores };
  state.myPreviousScores = { ...(snapshot.my_previous_scores ?? {}) };
  state.myDesiredScores = { ...(snapshot.my_desired_scores ?? {}) };
  state.participants = new Map(snapshot.participants.map((p) => [p.id, p]));
  state.spectrum = snapshot.spectrum;
  // Until the first presence tick: the people online; consoles and screens are not known yet.
  state.presence = { ...state.presence, online: snapshot.online, participants: snapshot.participants.length };
}

/** Apply one server message; returns the state (changed in place) for chaining. */
export function applyMessage(state, message, nowMs = Date.now()) {
  switch (message.type) {
    case "welcome":
      state.epoch = message.epoch;
      state.you = { ...message.you };
      state.serverOffsetMs = Date.parse(message.server_time) - nowMs;
      if (message.snapshot) applySnapshot(state, message.snapshot);
      for (const event of message.events ?? []) applyMessage(state, event, nowMs);
      state.seq = Math.max(state.seq, message.seq);
      if (message.snapshot) state.seq = message.seq;
      return state;
    case "spectrum":
      state.spectrum = message;
      return state;
    case "presence":
      state.presence = {
        online: message.online,
        participants: message.participants,
        consoles: message.consoles ?? 0,
        screens: message.screens ?? 0,
      };
      return state;
    case "ack":
    case "error":
    case "pong":
      if (message.type === "ack") state.seq = Math.max(state.seq, message.seq);
      return state;
    default:
      break;
  }
  if (typeof message.seq === "number") state.seq = Math.max(state.seq, message.seq);
  switch (message.type) {
    case "note_added":
    case "note_updated":
      state.notes.set(message.note.id, message.note);
      break;
    case "note_deleted":
      state.notes.delete(message.note_id);
      state.myVotes.delete(message.note_id);
      break;
    case "my_vote":
      if (message.voted) state.myVotes.add(message.note_id);
      else state.myVotes.delete(message.note_id);
      break;
    case "score_set": {
      const mine = message.kind === "desired" ? state.myDesiredScores : state.myScores;
      if (message.value === null) delete mine[message.statement_id];
      else mine[message.statement_id] = message.value;
      break;
    }
    case "phase_changed":
    case "results_visibility":
    case "voting_locked":
    case "timer_changed":
    case "screen_changed": {
      const [setting, field] = FLOW_EVENTS[message.type];
      state.settings[setting] = message[field];
      break;
    }
    case "room_updated": {
      // The whole configuration, whichever field changed: take every field as it comes.
      const { type: _type, seq: _seq, ...config } = message;
      Object.assign(state.settings, config);
      break;
    }
    case "participant_joined":
    case "participant_updated": {
      const person = message.participant;
      state.participants.set(person.id, person);
      if (state.you && person.id === state.you.participant_id) {
        state.you.name = person.name;
        state.you.group = person.group;
      }
      // Notes show the author's name as it is now.
      for (const [id, note] of state.notes) {
        if (note.author_id === person.id) state.notes.set(id, { ...note, author_name: person.name });
      }
      break;
    }
    case "screen_changed":
      state.settings.screen = { ...message.screen };
      break;
    case "round_started":
      state.settings.round = message.round;
      state.myPreviousScores = state.myScores;
      state.myScores = {};
      state.myDesiredScores = {};
      break;
    case "room_deleted":
      state.deleted = true;
      break;
    default:
      break;
  }
  return state;
}

/** The notes of one area in their board order. */
export function notesIn(state, areaId) {
  const byVotes = sortedByVotes(state);
  return [...state.notes.values()]
    .filter((note) => note.area_id === areaId)
    .sort((a, b) => (byVotes ? b.votes - a.votes : 0) || a.position - b.position || (a.id < b.id ? -1 : 1));
}

/** Whether the facilitator has the notes shown most votes first (the room's `note_order`). */
export function sortedByVotes(state) {
  return state.settings?.note_order === "votes";
}

/**
 * How many votes you have left, or null when nothing limits them (no budget in the room, or
 * you run it). Only votes on notes still on the board count, as on the server.
 */
export function votesLeft(state) {
  const budget = state.settings?.votes_per_person ?? 0;
  if (!budget || state.you?.role !== "participant") return null;
  const used = [...state.myVotes].filter((id) => state.notes.has(id)).length;
  return Math.max(0, budget - used);
}

/** Where to go when note `id` leaves `notes` (one area, in order): the next, else the one before. */
export function neighbourOf(notes, id) {
  const index = notes.findIndex((note) => note.id === id);
  if (index < 0) return null;
  return notes[index + 1] ?? notes[index - 1] ?? null;
}

export function canChange(state, note) {
  if (!state.you) return false;
  if (state.you.role === "facilitator") return true;
  return note.author_id === state.you.participant_id;
}

/** The spectrum entry of a statement, or null while hidden or absent. */
export function statementFigures(state, statementId) {
  const statements = state.spectrum?.statements;
  if (!statements) return null;
  return statements.find((entry) => entry.statement_id === statementId) ?? null;
}

/**
 * Why a room can no longer be reached, as precisely as this page knows: `expired` (its end
 * date, seen before, has passed), `deleted` (it was deleted while we watched, or is gone
 * although it was there), `unauthorized` (the key is wrong), `revoked` (the co-facilitator
 * link it came in by was revoked) or `not_found` (never seen: a wrong link, or a room that
 * expired or was deleted before we came).
 */
export function endReason(state, finalReason, nowMs = Date.now()) {
  if (finalReason === "unauthorized" || finalReason === "revoked") return finalReason;
  const ends = state.settings?.expires_at ? Date.parse(state.settings.expires_at) : null;
  if (ends !== null && ends <= nowMs + state.serverOffsetMs) return "expired";
  if (state.deleted || finalReason === "deleted" || state.settings) return "deleted";
  return "not_found";
}

// ---------------------------------------------------------------- the outbox

// Commands not yet acknowledged, kept across reconnects and page reloads so that nothing a
// person wrote offline is lost. The server applies each cid once, so re-sending is safe.

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
