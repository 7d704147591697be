// The screen's overview: every statement at once, one row each (left pole, distribution,
// right pole) like the paper form, sized to fit the screen without scrolling. Until the
// results are revealed the rows show the statements and no figures.

import { h } from "./dom.js";
import { formatNumber } from "./format.js";
import { answeredText, poles, revealed } from "./screen-parts.js";
import { distributionChart, legend } from "./spectrum.js";
import { statementFigures } from "./state.js";

/** Beside each row, the two things that choose what to discuss: the mean and the spread. */
function briefly(figures, t, language) {
  if (figures?.withheld) return [h("span", { class: "withheld" }, t("stats.withheld", { n: figures.withheld }))];
  if (!figures?.n) return [h("span", { class: "muted" }, t("results.none"))];
  return [
    h("span", {}, t("stats.mean", { mean: formatNumber(figures.mean, language) })),
    figures.insight ? h("span", { class: `insight insight-${figures.insight}` }, t(`insight.${figures.insight}`)) : null,
  ].filter(Boolean);
}

export class OverviewView {
  constructor({ live, locale, text }) {
    this.live = live;
    this.locale = locale;
    const { t } = locale;
    const template = live.state.template;
    this.rows = template.statements.map((statement, index) => {
      const chart = h("div", { class: "overview-chart" });
      const figures = h("p", { class: "overview-figures" });
      const [left, right] = poles(statement, index, text).children;
      return { statement, label: `${index + 1}. ${text(statement.left)} – ${text(statement.right)}`, chart, figures,
        element: h("li", { class: "overview-row" }, h("p", { class: "overview-left" }, left), chart, h("p", { class: "overview-right" }, right), figures) };
    });
    this.hidden = h("p", { class: "screen-hidden-note" });
    this.legend = h("div", { class: "screen-legend" });
    this.element = h("section", { class: "screen-overview" },
      h("h2", { class: "screen-heading" }, text(template.grading?.title) || t("screen.overview")),
      this.hidden,
      h("ol", { class: "overview-rows" }, this.rows.map((row) => row.element)),
      this.legend);
    this.drawn = undefined;
  }

  update() {
    const state = this.live.state;
    const { t, language } = this.locale;
    const open = revealed(state);
    this.hidden.hidden = open;
    this.hidden.textContent = open ? "" : `${t("screen.hidden")} ${answeredText(state, t)}`;
    const signature = open ? state.spectrum : null;
    if (signature === this.drawn) return;
    this.drawn = signature;
    for (const row of this.rows) {
      const figures = open ? statementFigures(state, row.statement.id) : null;
      row.chart.replaceChildren(open ? distributionChart(figures, { t, language, label: row.label, compact: true }) : "");
      row.figures.replaceChildren(...(open ? briefly(figures, t, language) : []));
    }
    const first = open ? state.spectrum.statements[0] : null;
    this.legend.replaceChildren(open ? legend(t, Boolean(first?.desired), { previous: Boolean(first?.previous), means: false }) : "");
  }
}
