// The client's room state: built only from server messages, in order (frontend/js/state.js).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { applyMessage, canChange, endReason, initialState, neighbourOf, notesIn, statementFigures, votesLeft } from "../../frontend/js/state.js";

const T0 = "2025-03-10T09:00:00+00:00";

function note(id, fields = {}) {
  return {
    id,
    area_id: "thoughts",
    text: `Lapp ${id}`,
    color: "yellow",
    author_id: "p-anna",
    author_name: null,
    position: 1,
    votes: 0,
    version: 1,
    created_at: T0,
    updated_at: T0,
    ...fields,
  };
}

function spectrum(seq, statements = null) {
  return { type: "spectrum", seq, round: 1, visible: statements !== null, voters: 2, completed: 0, statements, overall: null };
}

function welcome({ seq = 10, events = null, snapshot = true, you = {} } = {}) {
  return {
    type: "welcome",
    protocol: 1,
    epoch: "epoch-1",
    seq,
    server_time: "2025-03-10T09:00:05+00:00",
    you: { role: "participant", participant_id: "p-anna", token: null, name: null, group: null, ...you },
    snapshot: snapshot
      ? {
          room_id: "room-1",
          settings: {
            title: "Vårdenheten",
            join_code: "123456",
            language: "sv",
            phase: "document",
            results_visible: false,
            voting_locked: false,
            timer_ends_at: null,
            groups: [],
            round: 1,
            expires_at: "2025-04-10T09:00:00+00:00",
          },
          template: { statements: [{ id: "s1" }, { id: "s2" }], areas: [] },
          notes: [note("n1", { position: 2 }), note("n2", { position: 1, author_id: "p-bo", author_name: "Bo" })],
          my_votes: ["n2"],
          my_scores: { s1: 4 },
          participants: [
            { id: "p-anna", name: null, group: null },
            { id: "p-bo", name: "Bo", group: null },
          ],
          online: 2,
          spectrum: spectrum(9),
        }
      : null,
    events,
  };
}

describe("welcome", () => {
  test("a snapshot gives the whole room and its seq", () => {
    const state = applyMessage(initialState(), welcome(), Date.parse("2025-03-10T09:00:00Z"));
    assert.equal(state.epoch, "epoch-1");
    assert.equal(state.seq, 10);
    assert.equal(state.roomId, "room-1");
    assert.equal(state.settings.title, "Vårdenheten");
    assert.equal(state.notes.size, 2);
    assert.deepEqual([...state.myVotes], ["n2"]);
    assert.deepEqual(state.myScores, { s1: 4 });
    assert.equal(state.participants.get("p-bo").name, "Bo");
    assert.deepEqual(state.presence, { online: 2, participants: 2, consoles: 0, screens: 0 });
    assert.equal(state.spectrum.seq, 9);
    assert.equal(state.you.participant_id, "p-anna");
    // The server's clock is 5 s ahead of ours.
    assert.equal(state.serverOffsetMs, 5000);
  });

  test("a snapshot replaces what was there, even with a lower seq (a new epoch)", () => {
    const state = applyMessage(initialState(), welcome({ seq: 50 }));
    applyMessage(state, { type: "note_added", seq: 51, note: note("n9") });
    applyMessage(state, welcome({ seq: 3 }));
    assert.equal(state.seq, 3);
    assert.deepEqual([...state.notes.keys()].sort(), ["n1", "n2"]);
  });

  test("a resume replays the missed events in order on top of the state", () => {
    const state = applyMessage(initialState(), welcome({ seq: 10 }));
    const resume = welcome({
      seq: 14,
      snapshot: false,
      events: [
        { type: "note_added", seq: 11, note: note("n3", { text: "Ny" }) },
        { type: "note_updated", seq: 12, note: note("n3", { text: "Ändrad", version: 2 }) },
        { type: "note_deleted", seq: 13, note_id: "n1" },
        { type: "phase_changed", seq: 14, phase: "closed" },
      ],
    });
    applyMessage(state, resume);
    assert.equal(state.seq, 14);
    assert.deepEqual([...state.notes.keys()].sort(), ["n2", "n3"]);
    assert.equal(state.notes.get("n3").text, "Ändrad");
    assert.equal(state.settings.phase, "closed");
    // Untouched by a resume: what the snapshot gave.
    assert.equal(state.roomId, "room-1");
  });
});

describe("events", () => {
  const fresh = () => applyMessage(initialState(), welcome());

  test("notes are added, updated and deleted; a deleted note takes its vote along", () => {
    const state = fresh();
    applyMessage(state, { type: "note_added", seq: 11, note: note("n3", { area_id: "now", position: 5 }) });
    assert.equal(state.notes.get("n3").area_id, "now");
    applyMessage(state, { type: "note_updated", seq: 12, note: note("n3", { area_id: "needed", position: 1, version: 2 }) });
    assert.equal(state.notes.get("n3").area_id, "needed");
    assert.equal(state.notes.get("n3").version, 2);
    applyMessage(state, { type: "note_deleted", seq: 13, note_id: "n2" });
    assert.equal(state.notes.has("n2"), false);
    assert.equal(state.myVotes.has("n2"), false);
    assert.equal(state.seq, 13);
  });

  test("my_vote adds and removes my vote", () => {
    const state = fresh();
    applyMessage(state, { type: "my_vote", seq: 11, note_id: "n1", voted: true });
    assert.deepEqual([...state.myVotes].sort(), ["n1", "n2"]);
    applyMessage(state, { type: "my_vote", seq: 12, note_id: "n2", voted: false });
    assert.deepEqual([...state.myVotes], ["n1"]);
  });

  test("score_set sets and clears my score", () => {
    const state = fresh();
    applyMessage(state, { type: "score_set", seq: 11, statement_id: "s2", kind: "today", round: 1, value: 9 });
    assert.deepEqual(state.myScores, { s1: 4, s2: 9 });
    applyMessage(state, { type: "score_set", seq: 12, statement_id: "s1", kind: "today", round: 1, value: null });
    assert.deepEqual(state.myScores, { s2: 9 });
  });

  test("room settings follow their events", () => {
    const state = fresh();
    applyMessage(state, { type: "results_visibility", seq: 11, visible: true });
    applyMessage(state, { type: "voting_locked", seq: 12, locked: true });
    applyMessage(state, { type: "timer_changed", seq: 13, ends_at: "2025-03-10T09:05:00+00:00", seconds: 300 });
    applyMessage(state, { type: "room_updated", seq: 14, title: "Nytt namn", language: "fi", groups: [{ id: "g1", name: "Chefer" }] });
    applyMessage(state, { type: "phase_changed", seq: 15, phase: "document" });
    applyMessage(state, { type: "screen_changed", seq: 16, screen: { view: "statement", statement_id: "s4", question: 0 } });
    assert.equal(state.settings.phase, "document");
    assert.deepEqual(state.settings.screen, { view: "statement", statement_id: "s4", question: 0 });
    assert.equal(state.settings.results_visible, true);
    assert.equal(state.settings.voting_locked, true);
    assert.equal(state.settings.timer_ends_at, "2025-03-10T09:05:00+00:00");
    assert.equal(state.settings.title, "Nytt namn");
    assert.equal(state.settings.language, "fi");
    assert.deepEqual(state.settings.groups, [{ id: "g1", name: "Chefer" }]);
    applyMessage(state, { type: "room_deleted", seq: 17 });
    assert.equal(state.deleted, true);
  });

  test("what the screen shows follows screen_changed; presence counts people, consoles and screens apart", () => {
    const state = fresh();
    applyMessage(state, { type: "screen_changed", seq: 11, screen: { view: "statement", statement_id: "s2", question: 0 } });
    assert.deepEqual(state.settings.screen, { view: "statement", statement_id: "s2", question: 0 });
    assert.equal(state.seq, 11);
    applyMessage(state, { type: "presence", online: 5, participants: 6, consoles: 2, screens: 1 });
    assert.deepEqual(state.presence, { online: 5, participants: 6, consoles: 2, screens: 1 });
    // A snapshot after a reconnect keeps the last consoles and screens until the next tick.
    applyMessage(state, welcome({ seq: 20 }));
    assert.deepEqual(state.presence, { online: 2, participants: 2, consoles: 2, screens: 1 });
  });

  test("a participant's new name shows on their notes and, if it is me, on me", () => {
    const state = fresh();
    applyMessage(state, { type: "participant_updated", seq: 11, participant: { id: "p-anna", name: "Anna", group: "g1" } });
    assert.equal(state.notes.get("n1").author_name, "Anna");
    assert.equal(state.notes.get("n2").author_name, "Bo", "someone else's note keeps its author");
    assert.equal(state.you.name, "Anna");
    assert.equal(state.you.group, "g1");
    assert.equal(state.participants.get("p-anna").name, "Anna");
    applyMessage(state, { type: "participant_updated", seq: 12, participant: { id: "p-bo", name: null, group: null } });
    assert.equal(state.notes.get("n2").author_name, null, "going anonymous removes the name");
    assert.equal(state.you.name, "Anna");
    applyMessage(state, { type: "participant_joined", seq: 13, participant: { id: "p-cecilia", name: null, group: null } });
    assert.equal(state.participants.size, 3);
  });
});

describe("seq tracking", () => {
  test("seq only grows: events and acks raise it, an old one does not lower it", () => {
    const state = applyMessage(initialState(), welcome({ seq: 10 }));
    applyMessage(state, { type: "ack", cid: "c1", seq: 12 });
    assert.equal(state.seq, 12);
    applyMessage(state, { type: "note_added", seq: 11, note: note("n5") });
    assert.equal(state.seq, 12);
    assert.equal(state.notes.has("n5"), true);
    applyMessage(state, { type: "phase_changed", seq: 15, phase: "grade" });
    assert.equal(state.seq, 15);
  });

  test("spectrum, presence, errors and pongs do not move seq", () => {
    const state = applyMessage(initialState(), welcome({ seq: 10 }));
    applyMessage(state, spectrum(99, [{ statement_id: "s1", n: 2, mean: 5, median: 5, sd: 1, histogram: [0, 0, 0, 1, 0, 1, 0, 0, 0, 0] }]));
    applyMessage(state, { type: "presence", online: 7, participants: 9 });
    applyMessage(state, { type: "error", code: "not_author", message: "no", cid: "c2" });
    applyMessage(state, { type: "pong", cid: null, server_time: T0 });
    assert.equal(state.seq, 10);
    assert.deepEqual(state.presence, { online: 7, participants: 9, consoles: 0, screens: 0 });
    assert.equal(state.spectrum.seq, 99);
  });
});

describe("selectors", () => {
  test("notesIn sorts by position within one area", () => {
    const state = applyMessage(initialState(), welcome());
    applyMessage(state, { type: "note_added", seq: 11, note: note("n0", { position: 1.5 }) });
    applyMessage(state, { type: "note_added", seq: 12, note: note("n7", { area_id: "now" }) });
    assert.deepEqual(notesIn(state, "thoughts").map((n) => n.id), ["n2", "n0", "n1"]);
    assert.deepEqual(notesIn(state, "now").map((n) => n.id), ["n7"]);
    assert.deepEqual(notesIn(state, "needed"), []);
  });

  test("notesIn lists most votes first when the facilitator sets note_order to votes, ties as placed", () => {
    const state = applyMessage(initialState(), welcome());
    applyMessage(state, { type: "note_added", seq: 11, note: note("n0", { position: 1.5, votes: 2 }) });
    applyMessage(state, { type: "note_added", seq: 12, note: note("n3", { position: 3, votes: 2 }) });
    applyMessage(state, { type: "note_updated", seq: 13, note: { ...state.notes.get("n1"), votes: 5 } });
    const order = () => notesIn(state, "thoughts").map((n) => n.id);
    const placed = order();
    applyMessage(state, { type: "room_updated", seq: 14, ...state.settings, note_order: "votes" });
    assert.deepEqual(order(), ["n1", "n0", "n3", "n2"]);
    applyMessage(state, { type: "room_updated", seq: 15, ...state.settings, note_order: "position" });
    assert.deepEqual(order(), placed);
  });

  test("votesLeft: the budget less your votes on notes still there; none for the facilitator or without a budget", () => {
    const state = applyMessage(initialState(), welcome());
    state.you = { role: "participant", participant_id: "p-anna" };
    assert.equal(votesLeft(state), null, "no budget, nothing to count down");
    applyMessage(state, { type: "room_updated", seq: 11, ...state.settings, votes_per_person: 3 });
    assert.equal(votesLeft(state), 2, "the welcome's my_votes holds n2");
    applyMessage(state, { type: "my_vote", seq: 12, note_id: "n1", voted: true });
    assert.equal(votesLeft(state), 1);
    applyMessage(state, { type: "my_vote", seq: 13, note_id: "n1", voted: false });
    applyMessage(state, { type: "my_vote", seq: 14, note_id: "n1", voted: true });
    applyMessage(state, { type: "note_deleted", seq: 15, note_id: "n2" });
    assert.equal(votesLeft(state), 2, "a vote on a deleted note is free again, as on the server");
    state.you = { role: "facilitator", participant_id: null };
    assert.equal(votesLeft(state), null);
  });

  test("canChange: my own notes, or every note for a facilitator", () => {
    const state = applyMessage(initialState(), welcome());
    assert.equal(canChange(state, state.notes.get("n1")), true);
    assert.equal(canChange(state, state.notes.get("n2")), false);
    applyMessage(state, welcome({ you: { role: "facilitator", participant_id: null } }));
    assert.equal(canChange(state, state.notes.get("n2")), true);
    assert.equal(canChange(initialState(), state.notes.get("n1")), false);
  });

  test("statementFigures is null while the results are hidden", () => {
    const state = applyMessage(initialState(), welcome());
    assert.equal(statementFigures(state, "s1"), null);
    const entry = { statement_id: "s1", n: 3, mean: 5, median: 6, sd: 2.16, histogram: [0, 1, 0, 0, 0, 1, 1, 0, 0, 0] };
    applyMessage(state, spectrum(11, [entry]));
    assert.deepEqual(statementFigures(state, "s1"), entry);
    assert.equal(statementFigures(state, "s2"), null);
  });
});

test("neighbourOf: the note after one that leaves, else the one before, else none", () => {
  const notes = [{ id: "a" }, { id: "b" }, { id: "c" }];
  assert.equal(neighbourOf(notes, "a").id, "b");
  assert.equal(neighbourOf(notes, "b").id, "c");
  assert.equal(neighbourOf(notes, "c").id, "b", "the last one: the one before it");
  assert.equal(neighbourOf([{ id: "a" }], "a"), null);
  assert.equal(neighbourOf(notes, "x"), null);
});

describe("why a room has gone", () => {
  test("never seen: not found; seen: deleted, or expired once its end date has passed", () => {
    assert.equal(endReason(initialState(), "not_found"), "not_found");
    assert.equal(endReason(initialState(), "unauthorized"), "unauthorized");
    const state = applyMessage(initialState(), welcome(), Date.parse("2025-03-10T09:00:00Z"));
    // The snapshot's room expires 2025-04-10T09:00:00Z; the server's clock is 5 s ahead.
    assert.equal(endReason(state, "deleted", Date.parse("2025-03-20T09:00:00Z")), "deleted");
    assert.equal(endReason(state, "not_found", Date.parse("2025-03-20T09:00:00Z")), "deleted");
    assert.equal(endReason(state, "deleted", Date.parse("2025-04-10T08:59:56Z")), "expired");
    assert.equal(endReason(state, "deleted", Date.parse("2025-04-10T08:59:54Z")), "deleted");
    assert.equal(endReason(state, "unauthorized", Date.parse("2025-05-01T00:00:00Z")), "unauthorized");
    // A revoked co-facilitator link is said as such, even of a room seen before.
    assert.equal(endReason(initialState(), "revoked"), "revoked");
    assert.equal(endReason(state, "revoked", Date.parse("2025-03-20T09:00:00Z")), "revoked");
  });
});
