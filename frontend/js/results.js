// The room's results as panels a page mounts: the spectrum (a distribution per statement,
// with the notes linked to it), the statements per group, and the polarity profile. They
// show and control nothing (no command is sent from here), so a read-only projector page can
// mount them as they are, and the presenter puts its own controls around them.
//
// Each panel takes the live connection (for its state) and the locale it is drawn in, has an
// `element` to place anywhere, and a `draw()` that brings it in line with the state.
//
// Until the results are revealed nobody gets figures, the console included (docs/insight.md):
// a page that passes `whileHidden` (a locale key) shows, in each panel, that sentence and how
// many have answered instead of empty charts that would read as "no answers".

import { h } from "./dom.js";
import { pickText } from "./i18n.js";
import { answeredText } from "./screen-parts.js";
import { disagreementKey, distributionChart, figuresLine, figuresTable, legend, polarityProfile, shiftLine } from "./spectrum.js";
import { statementFigures } from "./state.js";

/** The orders the spectrum can show its statements in. */
export const ORDERS = ["template", "disagreement", "gap"];

/** The statements' ids in `order`; "gap" counts only while the room asks where we want to be. */
export function statementOrder(state, order) {
  const ids = state.template.statements.map((statement) => statement.id);
  if (order === "disagreement") {
    ids.sort((a, b) => disagreementKey(statementFigures(state, b)) - disagreementKey(statementFigures(state, a)));
  } else if (order === "gap" && state.settings.desired_enabled) {
    const gap = (id) => Math.abs(statementFigures(state, id)?.gap ?? -1);
    ids.sort((a, b) => gap(b) - gap(a));
  }
  return ids;
}

function templateText(live, locale) {
  return (localized) => pickText(localized, locale.language, live.state.template.languages);
}

/** "1. left … right" above a statement's chart. */
function poles(statement, index, text) {
  return h("p", { class: "poles" },
    h("span", { class: "pole-left" }, `${index + 1}. ${text(statement.left)}`),
    h("span", { class: "pole-right" }, text(statement.right)));
}

function statementLabel(statement, index, text) {
  return `${index + 1}. ${text(statement.left)} – ${text(statement.right)}`;
}

/** Whether the state holds figures to draw: false while the results are hidden. */
function hasFigures(state) {
  return Boolean(state.spectrum?.statements);
}

/** "The results appear here when you show them. 7 of 9 have answered.", in place of a panel's figures. */
class Placeholder {
  constructor(live, locale, key) {
    this.live = live;
    this.locale = locale;
    this.key = key;
    this.count = h("span", { class: "results-placeholder-count" });
    this.element = h("p", { class: "results-placeholder", hidden: true },
      h("span", { class: "results-placeholder-lead" }, key ? locale.t(key) : ""), " ", this.count);
  }

  /** Shown (with the count brought up to date) while there are no figures; true if shown. */
  update() {
    const state = this.live.state;
    const shown = Boolean(this.key) && !hasFigures(state);
    this.element.hidden = !shown;
    const count = shown ? `${answeredText(state, this.locale.t)}.` : "";
    if (this.count.textContent !== count) this.count.textContent = count;
    return shown;
  }
}

/** One card per statement: its distribution, figures, shift between rounds and linked notes. */
export class SpectrumPanel {
  /** `cardAction(statementId, label)`: an element a page puts on each card (the console's "on the screen"). */
  constructor(live, locale, { cardAction = null, whileHidden = null } = {}) {
    this.live = live;
    this.locale = locale;
    this.placeholder = new Placeholder(live, locale, whileHidden);
    /** One of ORDERS; "gap" counts only while the room asks where we want to be. */
    this.order = "template";
    const text = templateText(live, locale);
    this.cards = new Map();
    this.items = new Map();
    this.grid = h("ol", { class: "spectrum-grid" }, live.state.template.statements.map((statement, index) => {
      const card = { chart: h("div", { class: "chart" }), figures: h("div", {}), notes: h("div", { class: "linked-notes" }), label: statementLabel(statement, index, text) };
      const action = cardAction?.(statement.id, index);
      const item = h("li", { class: "spectrum-card" }, poles(statement, index, text), card.chart, card.figures, card.notes, action ?? null);
      this.cards.set(statement.id, card);
      this.items.set(statement.id, item);
      return item;
    }));
    this.table = h("div", {});
    this.legendShown = this.legendKey();
    this.legend = this.makeLegend();
    this.element = h("section", { "aria-label": locale.t("pr.spectrum") }, this.placeholder.element, this.legend, this.grid, this.table);
  }

  /** The legend names the desired bars only while the room asks for them, last round's from round 2 on. */
  legendKey() {
    const { desired_enabled: desired, round } = this.live.state.settings;
    return `${desired}:${round > 1}`;
  }

  makeLegend() {
    const { desired_enabled: desired, round } = this.live.state.settings;
    return legend(this.locale.t, desired, { previous: round > 1 });
  }

  drawLegend() {
    if (this.legendKey() === this.legendShown) return;
    this.legendShown = this.legendKey();
    const next = this.makeLegend();
    next.hidden = this.legend.hidden; // hidden while the results are
    this.legend.replaceWith(next);
    this.legend = next;
  }

  draw() {
    const state = this.live.state;
    const { t, language } = this.locale;
    // Hidden: each card keeps its statement (and the page's action), with no empty chart.
    const hidden = this.placeholder.update();
    this.legend.hidden = hidden;
    this.table.hidden = hidden;
    for (const [statementId, card] of this.cards) {
      if (hidden) {
        card.chart.replaceChildren();
        card.figures.replaceChildren();
        continue;
      }
      const figures = statementFigures(state, statementId);
      card.chart.replaceChildren(distributionChart(figures, { t, language, label: card.label }));
      card.figures.replaceChildren(figuresLine(figures, { t, language }), shiftLine(figures, { t, language }) ?? "");
    }
    this.drawNotes();
    const ids = statementOrder(state, this.order);
    ids.forEach((id, index) => {
      if (this.grid.children[index] !== this.items.get(id)) this.grid.insertBefore(this.items.get(id), this.grid.children[index] ?? null);
    });
    const open = this.table.querySelector("details")?.open ?? false;
    const table = figuresTable(state.template, state.spectrum, this.locale);
    table.open = open;
    this.table.replaceChildren(table);
  }

  /** Each statement's linked notes beside its distribution, kept open across updates. */
  drawNotes() {
    const { t } = this.locale;
    const byStatement = new Map();
    for (const note of this.live.state.notes.values()) {
      if (!note.statement_id) continue;
      if (!byStatement.has(note.statement_id)) byStatement.set(note.statement_id, []);
      byStatement.get(note.statement_id).push(note);
    }
    for (const [statementId, card] of this.cards) {
      const notes = byStatement.get(statementId) ?? [];
      const signature = notes.map((n) => `${n.id}:${n.version}`).join(",");
      if (card.notes.dataset.signature === signature) continue;
      card.notes.dataset.signature = signature;
      if (!notes.length) {
        card.notes.replaceChildren();
        continue;
      }
      const open = card.notes.querySelector("details")?.open ?? false;
      const details = h("details", {},
        h("summary", {}, t("pr.linkedNotes", { n: notes.length })),
        h("ul", {}, notes.map((note) => h("li", { class: `note-${note.color}` }, note.text))));
      details.open = open;
      card.notes.replaceChildren(details);
    }
  }
}

/** Each statement once per group, side by side; only the groups the server may show. */
export class GroupsPanel {
  constructor(live, locale, { whileHidden = null } = {}) {
    this.live = live;
    this.locale = locale;
    this.placeholder = new Placeholder(live, locale, whileHidden);
    this.element = h("section", { class: "group-view", "aria-label": locale.t("pr.groupsView") });
  }

  draw() {
    const { t, language } = this.locale;
    // Hidden: no group has figures yet, which is not "no group is large enough".
    if (this.placeholder.update()) {
      this.element.replaceChildren(this.placeholder.element);
      return;
    }
    const text = templateText(this.live, this.locale);
    const state = this.live.state;
    const spectrum = state.spectrum;
    const k = state.settings.group_min_size;
    const groups = spectrum?.groups ?? [];
    const parts = [];
    if (!groups.length) parts.push(h("p", { class: "lead" }, t("pr.groupsNone", { k })));
    if (spectrum?.hidden_groups) parts.push(h("p", { class: "hidden-groups" }, t("pr.groupsHidden", { n: spectrum.hidden_groups, k })));
    if (groups.length) {
      parts.push(h("ul", { class: "group-legend" }, groups.map((g) => h("li", {}, t("pr.groupVoters", { name: g.name, n: g.voters })))));
      const rows = state.template.statements.map((statement, index) => {
        const label = statementLabel(statement, index, text);
        return h("li", { class: "group-row" },
          poles(statement, index, text),
          h("div", { class: "group-charts" }, groups.map((group) => {
            const figures = group.statements.find((entry) => entry.statement_id === statement.id);
            return h("div", { class: "group-chart" },
              h("p", { class: "group-name" }, group.name),
              distributionChart(figures, { t, language, label: `${group.name}: ${label}` }),
              figuresLine(figures, { t, language }));
          })));
      });
      parts.push(h("ol", { class: "group-rows" }, rows));
    }
    this.element.replaceChildren(...parts);
  }
}

/** The ten means on one axis: the group's polarity profile. */
export class ProfilePanel {
  constructor(live, locale, { whileHidden = null } = {}) {
    this.live = live;
    this.locale = locale;
    this.placeholder = new Placeholder(live, locale, whileHidden);
    this.element = h("section", { "aria-label": locale.t("pr.profile") });
  }

  draw() {
    const state = this.live.state;
    const heading = h("h2", {}, this.locale.t("profile.heading"));
    if (this.placeholder.update()) {
      this.element.replaceChildren(heading, this.placeholder.element);
      return;
    }
    this.element.replaceChildren(heading, polarityProfile(state.template, state.spectrum, this.locale));
  }
}

/**
 * The three panels together, drawn only while shown: a page names the panel it shows
 * (`spectrum`, `groupsView` or `profile`) and calls `update` on every change.
 */
export class Results {
  constructor(live, locale, options = {}) {
    this.live = live;
    this.spectrum = new SpectrumPanel(live, locale, options);
    this.panels = { spectrum: this.spectrum, groupsView: new GroupsPanel(live, locale, options), profile: new ProfilePanel(live, locale, options) };
    this.drawn = undefined;
  }

  /** Draw `shown` if the spectrum changed since the last draw (or when `force`). */
  update(shown, force = false) {
    if (shown === "spectrum") {
      this.spectrum.drawLegend();
      this.spectrum.drawNotes();
    }
    const spectrum = this.live.state.spectrum;
    // How many are here changes without a new spectrum: the count follows it.
    this.panels[shown]?.placeholder?.update();
    if (!force && spectrum === this.drawn) return;
    this.drawn = spectrum;
    this.panels[shown]?.draw();
  }
}
