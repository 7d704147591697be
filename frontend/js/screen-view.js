// What the room's screen shows, as the console chose it (`settings.screen`): the join code,
// every statement, one statement, one question or the board, under a bar with the room's
// title, how to join (on every view but the code's own) and a large timer whenever one runs.
//
// The projector page mounts it full-screen; the console mounts the very same view, small,
// as its preview. Its size comes from one unit, `--u` (1/80 of the width or 1/45 of the
// height of what it fills: 24 px on a 1920x1080 projector), so both are the same picture.
// It sends nothing.

import { Board } from "./board.js";
import { h } from "./dom.js";
import { formatClock } from "./format.js";
import { CodeView } from "./screen-code.js";
import { OverviewView } from "./screen-overview.js";
import { spacedCode } from "./screen-parts.js";
import { QuestionView } from "./screen-question.js";
import { StatementView } from "./screen-statement.js";
import { Countdown } from "./timer.js";

const DEFAULT_SCREEN = { view: "code", statement_id: null, question: 0 };

/**
 * Give the ids under `root` (and the references to them) a prefix: the console shows this
 * view beside its own board, and one page must not hold the same id twice. The board makes
 * its ids once, when it is built, so this holds for good.
 */
function ownIds(root, prefix) {
  for (const element of root.querySelectorAll("[id]")) element.id = `${prefix}${element.id}`;
  for (const element of root.querySelectorAll("[aria-labelledby]")) {
    element.setAttribute("aria-labelledby", element.getAttribute("aria-labelledby").split(" ").map((id) => `${prefix}${id}`).join(" "));
  }
}

class BoardView {
  constructor(room) {
    const root = h("div", { class: "board screen-board-notes" });
    this.element = h("section", { class: "screen-board" }, h("h2", { class: "screen-heading" }, room.locale.t("board.heading")), root);
    this.board = new Board(root, room.live, room.locale, { readOnly: true });
    ownIds(root, "screen-");
  }

  update() {
    this.board.update();
  }
}

/** What the screen shows now, with its defaults filled in. */
export function currentScreen(state) {
  return { ...DEFAULT_SCREEN, ...(state.settings?.screen ?? {}) };
}

function viewFor(room, screen) {
  switch (screen.view) {
    case "overview":
      return new OverviewView(room);
    case "statement":
      return new StatementView(room, screen.statement_id);
    case "questions":
      return new QuestionView(room, screen.question);
    case "board":
      return new BoardView(room);
    default:
      return new CodeView(room);
  }
}

export class ScreenView {
  /** @param {{live, locale, text, roomId}} room */
  constructor(room) {
    this.room = room;
    const { t } = room.locale;
    this.title = h("p", { class: "screen-room-title", "aria-hidden": "true" });
    this.join = h("p", { class: "screen-join-corner" });
    this.timer = h("p", { class: "screen-timer", hidden: true, role: "timer", "aria-label": t("timer.label") });
    this.stage = h("div", { class: "screen-stage" });
    this.element = h("div", { class: "screen-view" },
      h("div", { class: "screen-bar" }, this.title, this.join, this.timer),
      this.stage);
    this.shown = null;
    this.view = null;
    this.countdown = new Countdown();
    // Its own second hand; it stops once the view has left the page (a redraw in another language).
    this.ticker = setInterval(() => (this.element.isConnected || !this.view ? this.tick() : clearInterval(this.ticker)), 1000);
  }

  update() {
    const state = this.room.live.state;
    const { t } = this.room.locale;
    const screen = currentScreen(state);
    const key = `${screen.view}:${screen.statement_id}:${screen.question}`;
    if (key !== this.shown) {
      this.shown = key;
      this.view = viewFor(this.room, screen);
      this.stage.replaceChildren(this.view.element);
      this.element.dataset.view = screen.view;
    }
    this.view.update();
    this.title.textContent = state.settings.title;
    this.join.hidden = screen.view === "code";
    this.join.textContent = t("screen.joinCorner", { host: location.host, code: spacedCode(state.settings.join_code) });
    this.tick();
  }

  tick() {
    const state = this.room.live.state;
    const { shown, left, done } = this.countdown.read(state.settings, Date.now(), state.serverOffsetMs);
    this.timer.hidden = !shown;
    this.timer.classList.toggle("timer-done", done);
    if (shown) this.timer.textContent = done ? this.room.locale.t("timer.done") : formatClock(left);
  }
}
