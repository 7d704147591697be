// The console's hold on the room's screen: a live preview of what the screen shows (the
// screen's own view, mounted small), the buttons that choose it, previous and next for
// statements and questions (also PageUp and PageDown, which a presentation clicker sends),
// and how many screens are open. Every choice is a `set_screen` command; the preview,
// like the screen itself, changes when the server says so.

import { h } from "./dom.js";
import { currentScreen, ScreenView } from "./screen-view.js";

const VIEWS = ["code", "overview", "statement", "questions", "board"];
const PROJECTOR_WIDTH = 1920; // the preview's design size, as .screen-preview .screen-view in console.css

export class ScreenControls {
  /**
   * @param {{live, locale, text, roomId}} room
   * @param {() => string[]} order  the statements' ids in the order the console shows them
   */
  constructor(room, order) {
    const { t } = room.locale;
    this.room = room;
    this.order = order;
    this.preview = new ScreenView(room);
    const frame = h("div", { class: "screen-preview", inert: true, "aria-hidden": "true" }, this.preview.element);
    // Drawn as a 1920x1080 projector would draw it, then scaled down to the box: letters
    // below the browser's smallest font size would otherwise break the lines elsewhere.
    new ResizeObserver(([entry]) => frame.style.setProperty("--scale", String(entry.contentRect.width / PROJECTOR_WIDTH))).observe(frame);
    this.caption = h("p", { class: "screen-caption", "aria-live": "polite" });
    this.buttons = new Map(VIEWS.map((view) => [view, h("button", {
      type: "button",
      "aria-label": t(`sc.${view}Label`),
      on: { click: () => this.choose(view) },
    }, t(`sc.${view}`))]));
    this.previous = h("button", { type: "button", on: { click: () => this.step(-1) } });
    this.next = h("button", { type: "button", on: { click: () => this.step(1) } });
    this.steps = h("div", { class: "screen-steps" }, this.previous, this.next);
    this.screens = h("span", { class: "muted" });
    const roomPath = `/r/${encodeURIComponent(room.roomId)}`;
    this.element = h("section", { class: "screen-controls", "aria-labelledby": "screen-controls-title" },
      h("h2", { id: "screen-controls-title" }, t("sc.heading")),
      frame,
      this.caption,
      h("div", { class: "screen-choice", role: "group", "aria-label": t("sc.choose") }, [...this.buttons.values()]),
      this.steps,
      h("p", { class: "screen-open" },
        h("a", { href: `${roomPath}/screen`, target: "_blank", rel: "noopener" }, t("sc.open")), " ", this.screens));
    document.addEventListener("keydown", (event) => this.clicker(event));
  }

  get state() {
    return this.room.live.state;
  }

  send(screen) {
    this.room.live.send({ type: "set_screen", ...screen });
  }

  /** One of the views; a statement or question starts where it was last, else at the first. */
  choose(view) {
    const now = currentScreen(this.state);
    if (view === "statement") this.send({ view, statement_id: this.lastStatement ?? this.order()[0] });
    else if (view === "questions") this.send({ view, question: now.view === "questions" ? now.question : (this.lastQuestion ?? 0) });
    else this.send({ view });
  }

  /** "This statement on the screen", from a statement's card. */
  showStatement(statementId) {
    this.send({ view: "statement", statement_id: statementId });
  }

  /** The next or previous statement (in the console's order) or question. */
  step(direction) {
    const now = currentScreen(this.state);
    if (now.view === "statement") {
      const ids = this.order();
      const index = ids.indexOf(now.statement_id) + direction;
      if (index >= 0 && index < ids.length) this.send({ view: "statement", statement_id: ids[index] });
    } else if (now.view === "questions") {
      const question = now.question + direction;
      if (question >= 0 && question < this.state.template.questions.length) this.send({ view: "questions", question });
    }
  }

  clicker(event) {
    if (!this.element.isConnected || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable], dialog")) return;
    if (event.key !== "PageDown" && event.key !== "PageUp") return;
    const { view } = currentScreen(this.state);
    if (view !== "statement" && view !== "questions") return;
    event.preventDefault();
    this.step(event.key === "PageDown" ? 1 : -1);
  }

  update() {
    const { t } = this.room.locale;
    const state = this.state;
    const now = currentScreen(state);
    if (now.view === "statement") this.lastStatement = now.statement_id;
    if (now.view === "questions") this.lastQuestion = now.question;
    this.preview.update();
    this.preview.element.classList.toggle("stale", this.room.live.status !== "online");
    for (const [view, button] of this.buttons) button.setAttribute("aria-pressed", String(view === now.view));
    this.buttons.get("questions").hidden = !state.template.questions.length;
    this.caption.textContent = t("sc.showing", { what: this.describe(now) });
    const ids = this.order();
    const questions = state.template.questions.length;
    const stepping = now.view === "statement" || now.view === "questions";
    this.steps.hidden = !stepping;
    if (stepping) {
      const statement = now.view === "statement";
      const index = statement ? ids.indexOf(now.statement_id) : now.question;
      const last = statement ? ids.length - 1 : questions - 1;
      this.previous.textContent = t(statement ? "sc.previousStatement" : "sc.previousQuestion");
      this.next.textContent = t(statement ? "sc.nextStatement" : "sc.nextQuestion");
      this.previous.disabled = index <= 0;
      this.next.disabled = index >= last;
    }
    this.screens.textContent = t("sc.screens", { n: state.presence.screens });
  }

  /** What the screen shows, in words: "Påstående 3: Vi gör saker rätt – Vi gör rätt saker". */
  describe(screen) {
    const { t } = this.room.locale;
    const template = this.state.template;
    if (screen.view === "statement") {
      const index = template.statements.findIndex((statement) => statement.id === screen.statement_id);
      const statement = template.statements[index];
      return t("sc.shows.statement", { n: index + 1, left: this.room.text(statement?.left), right: this.room.text(statement?.right) });
    }
    if (screen.view === "questions") return t("sc.shows.questions", { n: screen.question + 1, total: template.questions.length });
    return t(`sc.shows.${screen.view}`);
  }
}
