// The screen's one statement, for discussion: its poles, its distribution as large as the
// screen allows, what the figures say (the disagreement label, the shift since the last
// round or the gap to where we want to be), and the notes linked to it.

import { h } from "./dom.js";
import { answeredText, poles, revealed } from "./screen-parts.js";
import { distributionChart, figuresLine, legend, shiftLine } from "./spectrum.js";
import { statementFigures } from "./state.js";

const NOTES_SHOWN = 6;

/** A series the chart would draw bars of: shown (not held back) and not empty. */
const drawable = (series) => Boolean(series) && !series.withheld && series.n > 0;

export class StatementView {
  constructor({ live, locale, text }, statementId) {
    this.live = live;
    this.locale = locale;
    const { t } = locale;
    const statements = live.state.template.statements;
    const index = Math.max(0, statements.findIndex((statement) => statement.id === statementId));
    this.statement = statements[index];
    this.label = `${index + 1}. ${text(this.statement.left)} – ${text(this.statement.right)}`;
    this.chart = h("div", { class: "statement-chart" });
    this.figures = h("div", { class: "statement-figures" });
    this.notes = h("div", { class: "statement-notes" });
    this.legend = h("div", { class: "screen-legend" });
    this.element = h("section", { class: "screen-statement" },
      h("h2", { class: "screen-heading" }, t("screen.statement", { n: index + 1, total: statements.length })),
      poles(this.statement, index, text),
      h("div", { class: "statement-body" }, h("div", { class: "statement-main" }, this.chart, this.figures), this.notes),
      this.legend);
    this.drawn = undefined;
    this.notesDrawn = undefined;
  }

  update() {
    const state = this.live.state;
    const { t, language } = this.locale;
    const open = revealed(state);
    const signature = open ? state.spectrum : `hidden:${state.spectrum?.voters}:${state.presence.online}`;
    if (signature !== this.drawn) {
      this.drawn = signature;
      const figures = open ? statementFigures(state, this.statement.id) : null;
      // Revealed, but no bar to draw (too few grades to show, or none): say that, large,
      // where the distribution would be, rather than an empty axis across the room's screen.
      const empty = open && ![figures, figures?.previous, figures?.desired].some(drawable);
      // Until the reveal, where the distribution will be: that it is coming, and how many have answered.
      this.chart.replaceChildren(!open
        ? h("div", { class: "statement-waiting" },
            h("p", { class: "screen-hidden-note" }, t("screen.hidden")),
            h("p", { class: "screen-answered" }, answeredText(state, t)))
        : empty
          ? h("div", { class: "statement-waiting statement-empty" },
              h("p", { class: "screen-empty-note" }, figures?.withheld ? t("stats.withheld", { n: figures.withheld }) : t("results.none")),
              figures?.withheld ? h("p", { class: "screen-empty-why" }, t("screen.withheldWhy", { k: state.settings.group_min_size })) : null)
          : distributionChart(figures, { t, language, label: this.label }));
      const lines = empty ? [shiftLine(figures, { t, language })] : [figuresLine(figures, { t, language }), shiftLine(figures, { t, language })];
      this.figures.replaceChildren(...(open ? lines.filter(Boolean) : []));
      this.legend.replaceChildren(open && !empty ? legend(t, Boolean(figures?.desired), { previous: Boolean(figures?.previous) }) : "");
    }
    this.drawNotes(state, t);
  }

  drawNotes(state, t) {
    const linked = [...state.notes.values()]
      .filter((note) => note.statement_id === this.statement.id)
      .sort((a, b) => b.votes - a.votes || (a.created_at < b.created_at ? -1 : 1));
    const signature = linked.map((note) => `${note.id}:${note.version}:${note.votes}`).join(",");
    if (signature === this.notesDrawn) return;
    this.notesDrawn = signature;
    this.notes.hidden = !linked.length;
    if (!linked.length) return this.notes.replaceChildren();
    const more = linked.length - NOTES_SHOWN;
    // replaceChildren is the DOM's own, not h(): it writes a null as the word "null".
    const parts = [
      h("h3", {}, t("pr.linkedNotes", { n: linked.length })),
      h("ul", {}, linked.slice(0, NOTES_SHOWN).map((note) => h("li", { class: `screen-note note-${note.color}` }, note.text))),
    ];
    if (more > 0) parts.push(h("p", { class: "more-notes" }, t("screen.moreNotes", { n: more })));
    this.notes.replaceChildren(...parts);
  }
}
