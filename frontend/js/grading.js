// The statements to grade, each with its answer (and a second one, for where we want to be,
// when the room asks), your answer of last round once you have answered again, and the
// group's result when it is shown.
//
// Two ways to show them: all in a list (large screens), or one statement at a time with
// "previous", "next", "3 of 10" and a row of numbers to jump back (phones, where ten
// statements with two poles each are eight screens long). Enter goes to the next answer
// in both, so a keyboard grades ten statements with ten digits and ten Enters.

import { h } from "./dom.js";
import { currentAnswer, answeredCount, previousAnswerShown, step } from "./answers.js";
import { Scale } from "./scale.js";
import { statementFigures } from "./state.js";

// The group's figures are drawn only once the results are shown: spectrum.js is imported then
// (or in the background once the page is drawn, participant.js), not before a phone can grade.
let charts = null;
const loadCharts = () => import("./spectrum.js").then((module) => (charts = module));

/** One statement at a time where the screen is as narrow as a phone's (the CSS breakpoint). */
const NARROW = "(max-width: 40rem)";

export class Grading {
  /**
   * @param {object} room  the page's `{live, locale, text}` (see page.js)
   * @param {{mode?: string, index?: number}} memory  kept by the page across rebuilds, so a
   *   change of language or of the room's questions does not throw you back to statement 1
   */
  constructor({ live, locale, text }, memory) {
    this.live = live;
    this.locale = locale;
    this.text = text;
    this.memory = memory;
    memory.mode ??= window.matchMedia?.(NARROW).matches ? "one" : "all";
    memory.index ??= 0;
    memory.round ??= live.state.settings.round;
    this.scales = []; // in order: each { scale, kind, statementId, index }
    this.items = []; // one <li> per statement
    this.results = new Map(); // statement -> { element, label }
    this.root = this.build();
    this.showMode();
  }

  get kinds() {
    return this.live.state.settings.desired_enabled ? ["today", "desired"] : ["today"];
  }

  build() {
    const { t } = this.locale;
    const template = this.live.state.template;
    this.progress = h("p", { class: "progress", "aria-live": "off" });
    // The one place that says the grading is locked: to the eye, and to a screen reader as a
    // status (its text comes and goes with the lock, so the change is spoken, once).
    this.lockNote = h("p", { class: "lock-note", role: "status" });
    // From round 2 on, which round this is, above the statements (the live region announces
    // a new one as it starts: participant.js).
    this.roundNote = h("p", { class: "round-note", hidden: true });
    this.hiddenNote = h("p", { class: "results-hidden muted" });
    this.legend = h("div", { class: "legend-slot", hidden: true }); // the legend, with the figures
    this.legendRound = null;
    this.modeButton = h("button", { type: "button", class: "mode-switch", on: { click: () => this.switchMode() } });
    const list = h("ol", { class: "statements" }, template.statements.map((statement, index) => this.item(statement, index)));
    list.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.type === "radio") {
        event.preventDefault();
        this.next(event.target);
      }
    });
    this.pager = this.buildPager();
    // What you need to answer comes first; how far you are and what the group sees, after.
    return h(
      "section",
      { class: "grading", "aria-labelledby": "grading-title" },
      h("h2", { id: "grading-title", tabindex: "-1" }, this.text(template.grading.title)),
      template.grading.instruction ? h("p", { class: "instruction" }, this.text(template.grading.instruction)) : null,
      h("p", { class: "scale-poles", "aria-hidden": "true" },
        h("span", {}, `1 = ${this.text(template.grading.left_label)}`),
        h("span", {}, `10 = ${this.text(template.grading.right_label)}`)),
      h("p", { class: "key-hint muted small" }, t("grade.keys")),
      this.lockNote,
      this.roundNote,
      list,
      this.pager.element,
      h("div", { class: "grading-foot" }, this.progress, this.modeButton),
      this.hiddenNote,
      this.legend,
    );
  }

  item(statement, index) {
    const { t } = this.locale;
    const left = this.text(statement.left);
    const right = this.text(statement.right);
    const results = h("div", { class: "statement-results" });
    this.results.set(statement.id, { element: results, label: `${index + 1}. ${left} – ${right}` });
    const two = this.kinds.length > 1;
    const scales = this.kinds.map((kind) => {
      const scale = new Scale({
        id: kind === "today" ? `grade-${statement.id}` : `grade-${statement.id}-${kind}`,
        number: index + 1,
        label: t("slider.statement", { n: index + 1, left, right }),
        kind: two ? t(`report.${kind}`) : null,
        locale: this.locale,
        onAnswer: (value) => this.answer(statement.id, kind, value),
      });
      this.scales.push({ scale, kind, statementId: statement.id, index });
      return scale.element;
    });
    const element = h(
      "li",
      { class: "statement", dataset: { statement: statement.id } },
      h("div", { class: "poles" },
        h("span", { class: "pole pole-left" }, h("span", { class: "number" }, `${index + 1}.`), " ", left),
        h("span", { class: "pole pole-right" }, right)),
      scales,
      results,
    );
    this.items.push(element);
    return element;
  }

  buildPager() {
    const { t } = this.locale;
    const total = this.items.length;
    const previous = h("button", { type: "button", class: "pager-previous", on: { click: () => this.go(this.memory.index - 1) } }, t("grade.previous"));
    const next = h("button", { type: "button", class: "pager-next", on: { click: () => this.go(this.memory.index + 1) } }, t("grade.next"));
    const position = h("p", { class: "pager-position" });
    const jumps = this.items.map((_, index) =>
      h("li", {}, h("button", { type: "button", class: "jump", on: { click: () => this.go(index) } }, String(index + 1))));
    // Named on the screen and drawn apart (small round chips, not the answer's boxes): two
    // rows of 1-10 that look alike take each other's taps.
    const element = h("nav", { class: "pager", "aria-label": t("grade.pager") },
      h("div", { class: "pager-steps" }, previous, position, next),
      h("p", { class: "overview-label", id: "overview-label" }, t("grade.navigator")),
      h("ol", { class: "overview", "aria-labelledby": "overview-label" }, jumps));
    return { element, previous, next, position, jumps: jumps.map((li) => li.firstChild) };
  }

  answer(statementId, kind, value) {
    const command = { type: "set_score", statement_id: statementId, value };
    if (kind !== "today") command.kind = kind;
    this.live.send(command);
  }

  /** Enter on an answer: on to the next answer, in this statement or the next. */
  next(from) {
    const at = this.scales.findIndex(({ scale }) => scale.contains(from));
    const following = this.scales[at + 1];
    if (!following) return;
    if (this.memory.mode === "one" && following.index !== this.memory.index) {
      this.go(following.index);
      return;
    }
    following.scale.focus({ preventScroll: true });
    following.scale.element.scrollIntoView({ block: "nearest" });
  }

  /** Show statement `index` (one at a time) and put the focus on its first answer. */
  go(index) {
    if (index < 0 || index >= this.items.length) return;
    this.memory.index = index;
    this.showMode();
    this.update();
    const first = this.scales.find((entry) => entry.index === index);
    first.scale.focus({ preventScroll: true });
    this.items[index].scrollIntoView({ block: "nearest" });
  }

  switchMode() {
    this.memory.mode = this.memory.mode === "one" ? "all" : "one";
    this.showMode();
    this.update();
  }

  showMode() {
    const { t } = this.locale;
    const one = this.memory.mode === "one";
    this.memory.index = Math.min(this.memory.index, this.items.length - 1);
    this.root.classList.toggle("one-at-a-time", one);
    this.items.forEach((item, index) => {
      item.hidden = one && index !== this.memory.index;
    });
    this.pager.element.hidden = !one;
    this.modeButton.textContent = t(one ? "grade.showAll" : "grade.showOne");
  }

  /** A new round: everyone grades again from the first statement, so the phone goes there. */
  newRound() {
    const focused = this.root.contains(document.activeElement);
    this.memory.index = 0;
    this.showMode();
    this.updatePager();
    if (focused) this.scales[0].scale.focus({ preventScroll: true });
    this.roundNote.scrollIntoView({ block: "start" });
  }

  update() {
    const { t, language } = this.locale;
    const state = this.live.state;
    const outbox = this.live.outbox;
    const round = state.settings.round;
    this.roundNote.hidden = round < 2;
    this.roundNote.textContent = round < 2 ? "" : t("round.label", { n: round });
    if (round > this.memory.round) this.newRound();
    this.memory.round = round;
    const visible = Boolean(state.spectrum?.statements);
    if (visible && !charts) loadCharts().then(() => this.update(), () => {});
    const locked = state.settings.voting_locked || state.settings.phase === "closed";
    for (const { scale, kind, statementId } of this.scales) {
      const value = currentAnswer(state, outbox, statementId, kind);
      const before = kind === "today" ? state.myPreviousScores?.[statementId] : null;
      scale.paint(value, previousAnswerShown(before, value), locked);
    }
    for (const [statementId, { element, label }] of this.results) {
      const figures = charts && statementFigures(state, statementId);
      if (figures) {
        const mine = currentAnswer(state, outbox, statementId);
        element.replaceChildren(
          charts.distributionChart(figures, { t, language, label, mine: typeof mine === "number" ? mine : null }),
          charts.figuresLine(figures, { t, language }),
          // From round 2: how the room moved, and how many did not answer again.
          charts.shiftLine(figures, { t, language }) ?? "",
        );
      } else if (element.firstChild) {
        element.replaceChildren();
      }
    }
    this.progress.textContent = t("p.progress", { n: answeredCount(state, outbox), total: this.items.length });
    const lockText = locked ? t("slider.locked") : "";
    if (this.lockNote.textContent !== lockText) this.lockNote.textContent = lockText;
    if (charts && this.legendRound !== state.settings.round) {
      // What the phone's charts draw: last round's bars from round 2 on, desired where
      // asked, and the ring of your own answer.
      this.legendRound = state.settings.round;
      const previous = state.settings.round > 1;
      this.legend.replaceChildren(charts.legend(t, state.settings.desired_enabled, { previous, mine: true }));
    }
    this.legend.hidden = !visible || !charts;
    this.hiddenNote.hidden = visible;
    this.hiddenNote.textContent = t("results.hidden", { n: state.spectrum?.voters ?? 0 });
    this.updatePager();
  }

  updatePager() {
    const { t } = this.locale;
    const { index } = this.memory;
    const total = this.items.length;
    const { previous, next, position, jumps } = this.pager;
    position.textContent = t("grade.position", { n: index + 1, total });
    previous.disabled = step(index, total, -1) === null;
    next.disabled = step(index, total, 1) === null;
    jumps.forEach((button, at) => {
      const statementId = this.live.state.template.statements[at].id;
      const answer = currentAnswer(this.live.state, this.live.outbox, statementId);
      const said = answer === null ? t("slider.unrated") : t("grade.answer", { value: answer === "unknown" ? t("slider.unknown") : answer });
      button.setAttribute("aria-label", t("grade.jump", { n: at + 1, answer: said }));
      button.classList.toggle("answered", answer !== null);
      if (at === index) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    });
  }
}
