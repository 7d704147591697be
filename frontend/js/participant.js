// The participant's page (phone first): who you are, then whatever the room's phase asks.
// A phase change adds and removes sections but keeps those that stay (and the focus in
// them); what others do never moves the focus.

import { afterPaint, h, keepFocus, syncChildren } from "./dom.js";
import { takeEarlyConnection } from "./early-connection.js";
import { Grading } from "./grading.js";
import { startRoomPage } from "./page.js";
import { Profile } from "./profile.js";

// What the first screen does not show is imported when it is needed, and in the background
// once the first screen is drawn: the board (the document phase) and the figures (once the
// results are shown). Not among the files a phone waits for before it can grade: five of
// them, 12 KB, each of which cost it a round trip on a slow link (docs/performance.md).
let Board = null;
let charts = null; // spectrum.js
const loadBoard = () => import("./board.js").then((module) => (Board = module.Board));
const loadCharts = () => import("./spectrum.js").then((module) => (charts = module));

// Kept across a change of language (the page mounts again): one statement at a time or
// all, and which one.
const gradingMemory = {};

startRoomPage({
  earlyConnection: takeEarlyConnection,
  title: (settings) => `${settings.title} – Samskapa`,
  mount: (room) => new ParticipantView(room),
  onMessage(message, { frame: { announcer }, locale: { t } }) {
    if (message.type === "phase_changed") announcer.now(t("live.phase", { phase: t(`phase.${message.phase}`) }));
    if (message.type === "round_started") announcer.now(t("live.round", { n: message.round }));
    if (message.type === "results_visibility") announcer.now(t(message.visible ? "live.revealed" : "live.hidden"));
    // Locked, the note above the answers says so itself (a status); said here too, it was said twice.
    if (message.type === "voting_locked" && !message.locked) announcer.now(t("live.unlocked"));
    if (message.type === "timer_changed" && message.seconds) announcer.now(t("live.timer", { n: Math.round(message.seconds / 60) }));
    if (message.type === "spectrum" && message.statements) announcer.later(t("live.results", { n: message.voters }));
  },
});

class ParticipantView {
  constructor(room) {
    this.room = room;
    this.live = room.live;
    this.locale = room.locale;
    this.main = room.frame.main;
    this.built = {}; // what each section was built for, to rebuild only what changed
    this.sections = {};
    // Once this first screen is painted; a failed import (offline) is tried again when needed.
    afterPaint(() => Promise.allSettled([loadBoard(), loadCharts()]));
  }

  /** An answer refused because the grading is locked: the lock note already says it. */
  explains(error) {
    return error.code === "voting_locked" && Boolean(this.sections.grading) && this.live.state.settings.voting_locked;
  }

  /** Each section, built anew only when what it shows changed shape. */
  section(name, key, build) {
    if (this.built[name] !== key) {
      this.sections[name] = key === null ? null : build();
      this.built[name] = key;
    }
    return this.sections[name];
  }

  update() {
    const { t } = this.locale;
    const settings = this.live.state.settings;
    const phase = settings.phase;
    const grading = ["grade", "reflect", "closed"].includes(phase);
    const board = phase === "document" || phase === "closed";
    const profile = this.section("profile", settings.groups.map((g) => `${g.id}:${g.name}`).join(","), () => new Profile(this.room));
    const lead = this.section("lead", phase === "lobby" || phase === "closed" ? phase : null,
      () => h("p", { class: "lead" }, t(phase === "lobby" ? "p.lobby" : "p.closed")));
    const questions = this.section("questions", phase === "reflect" ? "reflect" : null, () => this.questions());
    const scales = this.section("grading", grading ? String(settings.desired_enabled) : null, () => new Grading(this.room, gradingMemory));
    const results = this.section("results", grading ? "results" : null, () => ({ element: h("div", { class: "results" }), shown: undefined }));
    const notes = this.section("board", board ? phase : null, () => this.board(phase === "closed"));
    const wanted = [profile.root, lead, questions, scales?.root, results?.element, ...(notes ? notes.elements : [])].filter(Boolean);
    const kept = keepFocus(this.main, () => syncChildren(this.main, wanted));
    // The focus was in a section that is gone: give it to the heading of the first new one.
    if (!kept) this.focusNewSection(wanted);
    profile.update();
    scales?.update();
    if (notes) this.updateBoard(notes);
    if (results) this.drawResults(results);
  }

  /** The notes' section has its heading at once, and its board when board.js is there. */
  updateBoard(notes) {
    if (!notes.board && Board) notes.board = new Board(notes.root, this.live, this.locale, { readOnly: notes.readOnly });
    if (notes.board) notes.board.update();
    else loadBoard().then(() => this.sections.board === notes && this.updateBoard(notes), () => {});
  }

  focusNewSection(wanted) {
    for (const element of wanted) {
      const heading = element.matches("h2[tabindex]") ? element : element.querySelector("h2[tabindex]");
      if (heading) {
        heading.focus();
        return;
      }
    }
  }

  questions() {
    const { t } = this.locale;
    const template = this.live.state.template;
    return h(
      "section",
      { class: "questions", "aria-labelledby": "questions-title" },
      h("h2", { id: "questions-title", tabindex: "-1" }, template.reflection_title ? this.room.text(template.reflection_title) : t("phase.reflect")),
      h("ol", {}, template.questions.map((q) => h("li", {}, this.room.text(q.text)))),
      h("p", { class: "muted" }, t("reflect.by")),
    );
  }

  board(readOnly) {
    const root = h("section", { class: "board", "aria-labelledby": "board-title" });
    const heading = h("h2", { id: "board-title", tabindex: "-1" }, this.locale.t("doc.heading"));
    return { elements: [heading, root], root, readOnly, board: null };
  }

  /** The profile and the table of figures, once the results are shown. */
  drawResults(results) {
    const { t } = this.locale;
    const state = this.live.state;
    if (state.spectrum === results.shown) return;
    if (state.spectrum?.statements && !charts) {
      loadCharts().then(() => this.sections.results === results && this.drawResults(results), () => {});
      return;
    }
    results.shown = state.spectrum;
    if (!state.spectrum?.statements) {
      results.element.replaceChildren();
      return;
    }
    const tableOpen = results.element.querySelector("details")?.open ?? false;
    const table = charts.figuresTable(state.template, state.spectrum, this.locale);
    table.open = tableOpen;
    results.element.replaceChildren(h("h2", {}, t("profile.heading")), charts.polarityProfile(state.template, state.spectrum, this.locale), table);
  }
}
