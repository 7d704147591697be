// The ten sliders: one native range input per statement, with a "not graded yet" state that
// is distinct from every value, a way to clear, and the group's result when it is shown.

import { h } from "./dom.js";
import { pickText } from "./i18n.js";
import { distributionChart, figuresLine, legend } from "./spectrum.js";
import { statementFigures } from "./state.js";

const SEND_EVERY_MS = 150;

export class Grading {
  constructor(live, locale) {
    this.live = live;
    this.locale = locale;
    this.rows = new Map();
    this.local = new Map(); // statement -> value the person set that the server has not echoed yet
    this.root = this.build();
  }

  text(localized) {
    return pickText(localized, this.locale.language, this.live.state.template.languages);
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
    const { t } = this.locale;
    const id = `range-${statement.id}`;
    const left = this.text(statement.left);
    const right = this.text(statement.right);
    const input = h("input", {
      type: "range", id, min: 1, max: 10, step: 1, value: 5, class: "unrated",
      "aria-label": t("slider.statement", { n: index + 1, left, right }),
    });
    const output = h("output", { for: id, class: "value" });
    const previous = h("span", { class: "previous-marker", "aria-hidden": "true", hidden: true });
    const previousText = h("p", { class: "previous-answer", id: `${id}-previous`, hidden: true });
    const clear = h("button", { type: "button", class: "clear", "aria-label": t("slider.clearLabel", { n: index + 1 }) }, t("slider.clear"));
    const unknown = h("button", { type: "button", class: "unknown", "aria-pressed": "false", "aria-label": t("slider.unknownLabel", { n: index + 1 }) }, t("slider.unknown"));
    const results = h("div", { class: "statement-results" });
    let lastSent = 0;
    let timer = null;
    const send = () => {
      clearTimeout(timer);
      lastSent = Date.now();
      this.live.send({ type: "set_score", statement_id: statement.id, value: Number(input.value) });
    };
    input.addEventListener("input", () => {
      this.local.set(statement.id, Number(input.value));
      this.paintRow(statement.id);
      const wait = lastSent + SEND_EVERY_MS - Date.now();
      clearTimeout(timer);
      if (wait <= 0) send();
      else timer = setTimeout(send, wait);
    });
    input.addEventListener("change", send);
    unknown.addEventListener("click", () => {
      clearTimeout(timer);
      const next = this.value(statement.id) === "unknown" ? null : "unknown";
      this.local.set(statement.id, next);
      this.live.send({ type: "set_score", statement_id: statement.id, value: next });
      this.paintRow(statement.id);
    });
    clear.addEventListener("click", () => {
      clearTimeout(timer);
      this.local.set(statement.id, null);
      this.live.send({ type: "set_score", statement_id: statement.id, value: null });
      this.paintRow(statement.id);
      input.focus();
    });
    this.rows.set(statement.id, { input, output, clear, unknown, results, previous, previousText, label: `${index + 1}. ${left} – ${right}` });
    return h(
      "li",
      { class: "statement" },
      h("div", { class: "poles" },
        h("span", { class: "pole pole-left" }, h("span", { class: "number" }, `${index + 1}.`), " ", left),
        h("span", { class: "pole pole-right" }, right)),
      h("div", { class: "slider-row" }, h("div", { class: "slider-track" }, input, previous), output, h("div", { class: "slider-actions" }, unknown, clear)),
      previousText,
      results,
    );
  }

  value(statementId) {
    if (this.local.has(statementId)) {
      const mine = this.local.get(statementId);
      const stored = this.live.state.myScores[statementId] ?? null;
      if (mine === stored && !this.live.outbox.items.some((c) => c.statement_id === statementId)) this.local.delete(statementId);
      return mine;
    }
    return this.live.state.myScores[statementId] ?? null;
  }

  paintRow(statementId) {
    const { t } = this.locale;
    const row = this.rows.get(statementId);
    const value = this.value(statementId);
    const dontKnow = value === "unknown";
    const rated = value !== null && value !== undefined && !dontKnow;
    if (rated && document.activeElement !== row.input) row.input.value = String(value);
    if (rated && document.activeElement === row.input && Number(row.input.value) !== value && !this.local.has(statementId)) row.input.value = String(value);
    row.input.classList.toggle("unrated", !rated);
    const text = dontKnow ? t("slider.unknown") : rated ? t("slider.value", { value }) : t("slider.unrated");
    row.input.setAttribute("aria-valuetext", text);
    row.output.textContent = text;
    row.output.classList.toggle("dont-know", dontKnow);
    row.unknown.setAttribute("aria-pressed", String(dontKnow));
    row.clear.hidden = !rated && !dontKnow;
    const before = this.live.state.myPreviousScores?.[statementId];
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
    for (const [statementId, row] of this.rows) {
      this.paintRow(statementId);
      if (this.value(statementId) !== null && this.value(statementId) !== undefined) graded += 1;
      row.input.disabled = locked;
      row.clear.disabled = locked;
      row.unknown.disabled = locked;
      const figures = statementFigures(state, statementId);
      if (figures) {
        row.results.replaceChildren(
          distributionChart(figures, { t, language, label: row.label, mine: numeric(this.value(statementId)) }),
          figuresLine(figures, { t, language }),
        );
      } else if (row.results.firstChild) {
        row.results.replaceChildren();
      }
    }
    this.progress.textContent = t("p.progress", { n: graded, total: this.rows.size });
    this.lockNote.hidden = !locked;
    const visible = Boolean(state.spectrum?.statements);
    this.legend.hidden = !visible;
    this.hiddenNote.hidden = visible;
    this.hiddenNote.textContent = t("results.hidden", { voters: state.spectrum?.voters ?? 0 });
  }
}

function numeric(value) {
  return typeof value === "number" ? value : null;
}
