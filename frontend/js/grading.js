// The ten statements to grade: a native range input per statement (and a second one, for
// where we want to be, when the room asks), each with a "not graded yet" state distinct from
// every value, "don't know", a way to clear, your previous round's answer, and the group's
// result when it is shown.

import { h } from "./dom.js";
import { pickText } from "./i18n.js";
import { distributionChart, figuresLine, legend } from "./spectrum.js";
import { statementFigures } from "./state.js";

const SEND_EVERY_MS = 150;

export class Grading {
  constructor(live, locale) {
    this.live = live;
    this.locale = locale;
    this.sliders = new Map(); // "kind:statement" -> the controls of one slider
    this.results = new Map(); // statement -> { element, label }
    this.local = new Map(); // "kind:statement" -> a value set here that the server has not echoed yet
    this.root = this.build();
  }

  text(localized) {
    return pickText(localized, this.locale.language, this.live.state.template.languages);
  }

  get kinds() {
    return this.live.state.settings.desired_enabled ? ["today", "desired"] : ["today"];
  }

  build() {
    const { t } = this.locale;
    const template = this.live.state.template;
    this.progress = h("p", { class: "progress", "aria-live": "off" });
    this.lockNote = h("p", { class: "lock-note", hidden: true }, t("slider.locked"));
    this.hiddenNote = h("p", { class: "results-hidden muted" });
    this.legend = legend(t);
    const list = h("ol", { class: "statements" }, template.statements.map((statement, index) => this.row(statement, index)));
    return h(
      "section",
      { class: "grading", "aria-labelledby": "grading-title" },
      h("h2", { id: "grading-title" }, this.text(template.grading.title)),
      template.grading.instruction ? h("p", { class: "instruction" }, this.text(template.grading.instruction)) : null,
      h("p", { class: "scale-poles", "aria-hidden": "true" },
        h("span", {}, `1 = ${this.text(template.grading.left_label)}`),
        h("span", {}, `10 = ${this.text(template.grading.right_label)}`)),
      this.progress,
      this.lockNote,
      this.hiddenNote,
      list,
      this.legend,
    );
  }

  row(statement, index) {
    const left = this.text(statement.left);
    const right = this.text(statement.right);
    const label = `${index + 1}. ${left} – ${right}`;
    const results = h("div", { class: "statement-results" });
    this.results.set(statement.id, { element: results, label });
    return h(
      "li",
      { class: "statement" },
      h("div", { class: "poles" },
        h("span", { class: "pole pole-left" }, h("span", { class: "number" }, `${index + 1}.`), " ", left),
        h("span", { class: "pole pole-right" }, right)),
      this.kinds.map((kind) => this.slider(statement, index, kind, left, right)),
      results,
    );
  }

  slider(statement, index, kind, left, right) {
    const { t } = this.locale;
    const key = `${kind}:${statement.id}`;
    const id = kind === "today" ? `range-${statement.id}` : `range-${statement.id}-${kind}`;
    const two = this.kinds.length > 1;
    const kindLabel = two ? `${t(`report.${kind}`)}: ` : "";
    const input = h("input", {
      type: "range", id, min: 1, max: 10, step: 1, value: 5, class: "unrated",
      "aria-label": kindLabel + t("slider.statement", { n: index + 1, left, right }),
    });
    const output = h("output", { for: id, class: "value" });
    const previous = h("span", { class: "previous-marker", "aria-hidden": "true", hidden: true });
    const previousText = h("p", { class: "previous-answer", id: `${id}-previous`, hidden: true });
    const clear = h("button", { type: "button", class: "clear", "aria-label": kindLabel + t("slider.clearLabel", { n: index + 1 }) }, t("slider.clear"));
    const unknown = h("button", { type: "button", class: "unknown", "aria-pressed": "false", "aria-label": kindLabel + t("slider.unknownLabel", { n: index + 1 }) }, t("slider.unknown"));
    const command = (value) => {
      const message = { type: "set_score", statement_id: statement.id, value };
      if (kind !== "today") message.kind = kind;
      return message;
    };
    let lastSent = 0;
    let timer = null;
    const send = () => {
      clearTimeout(timer);
      lastSent = Date.now();
      this.live.send(command(Number(input.value)));
    };
    input.addEventListener("input", () => {
      this.local.set(key, Number(input.value));
      this.paint(key);
      const wait = lastSent + SEND_EVERY_MS - Date.now();
      clearTimeout(timer);
      if (wait <= 0) send();
      else timer = setTimeout(send, wait);
    });
    input.addEventListener("change", send);
    unknown.addEventListener("click", () => {
      clearTimeout(timer);
      const next = this.value(key) === "unknown" ? null : "unknown";
      this.local.set(key, next);
      this.live.send(command(next));
      this.paint(key);
    });
    clear.addEventListener("click", () => {
      clearTimeout(timer);
      this.local.set(key, null);
      this.live.send(command(null));
      this.paint(key);
      input.focus();
    });
    this.sliders.set(key, { kind, statementId: statement.id, input, output, clear, unknown, previous, previousText });
    return h(
      "div",
      { class: ["slider", `slider-${kind}`] },
      two ? h("p", { class: "kind-label" }, t(`report.${kind}`)) : null,
      h("div", { class: "slider-row" }, h("div", { class: "slider-track" }, input, previous), output, h("div", { class: "slider-actions" }, unknown, clear)),
      previousText,
    );
  }

  stored(kind, statementId) {
    const state = this.live.state;
    const mine = kind === "desired" ? state.myDesiredScores : state.myScores;
    return mine?.[statementId] ?? null;
  }

  value(key) {
    const slider = this.sliders.get(key);
    const stored = this.stored(slider.kind, slider.statementId);
    if (this.local.has(key)) {
      const mine = this.local.get(key);
      const pending = this.live.outbox.items.some((c) => c.statement_id === slider.statementId && (c.kind ?? "today") === slider.kind);
      if (mine === stored && !pending) this.local.delete(key);
      return mine;
    }
    return stored;
  }

  paint(key) {
    const { t } = this.locale;
    const row = this.sliders.get(key);
    const value = this.value(key);
    const dontKnow = value === "unknown";
    const rated = value !== null && value !== undefined && !dontKnow;
    if (rated && (document.activeElement !== row.input || !this.local.has(key))) row.input.value = String(value);
    row.input.classList.toggle("unrated", !rated);
    const text = dontKnow ? t("slider.unknown") : rated ? t("slider.value", { value }) : t("slider.unrated");
    row.input.setAttribute("aria-valuetext", text);
    row.output.textContent = text;
    row.output.classList.toggle("dont-know", dontKnow);
    row.unknown.setAttribute("aria-pressed", String(dontKnow));
    row.clear.hidden = !rated && !dontKnow;
    const before = row.kind === "today" ? this.live.state.myPreviousScores?.[row.statementId] : undefined;
    const hasBefore = before !== undefined && before !== null;
    row.previousText.hidden = !hasBefore;
    row.previous.hidden = typeof before !== "number";
    if (hasBefore) {
      row.previousText.textContent = t("slider.previous", { value: before === "unknown" ? t("slider.unknown") : before });
      row.input.setAttribute("aria-describedby", row.previousText.id);
      if (typeof before === "number") row.previous.style.setProperty("--at", String((before - 1) / 9));
    } else {
      row.input.removeAttribute("aria-describedby");
    }
  }

  update() {
    const { t, language } = this.locale;
    const state = this.live.state;
    const locked = state.settings.voting_locked || state.settings.phase === "closed";
    let graded = 0;
    for (const [key, row] of this.sliders) {
      this.paint(key);
      const value = this.value(key);
      if (row.kind === "today" && value !== null && value !== undefined) graded += 1;
      row.input.disabled = locked;
      row.clear.disabled = locked;
      row.unknown.disabled = locked;
    }
    for (const [statementId, { element, label }] of this.results) {
      const figures = statementFigures(state, statementId);
      if (figures) {
        const mine = this.value(`today:${statementId}`);
        element.replaceChildren(
          distributionChart(figures, { t, language, label, mine: typeof mine === "number" ? mine : null }),
          figuresLine(figures, { t, language }),
        );
      } else if (element.firstChild) {
        element.replaceChildren();
      }
    }
    this.progress.textContent = t("p.progress", { n: graded, total: this.results.size });
    this.lockNote.hidden = !locked;
    const visible = Boolean(state.spectrum?.statements);
    this.legend.hidden = !visible;
    this.hiddenNote.hidden = visible;
    this.hiddenNote.textContent = t("results.hidden", { n: state.spectrum?.voters ?? 0 });
  }
}
