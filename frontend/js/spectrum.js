// Drawing the shared spectrum: one distribution per statement (distribution.js), the words
// beside it, the legend and the polarity profile. Every chart is an SVG with a text
// alternative; shapes and words carry the meaning, not colour.

import { legendIcon, x } from "./distribution.js";
import { h, s } from "./dom.js";
import { formatNumber } from "./format.js";
import { pickText } from "./i18n.js";

export { distributionChart } from "./distribution.js";

/** The words beside a chart: n, mean, median, sd, and a plain-language spread label. */
export function figuresLine(figures, { t, language }) {
  const unknown = figures?.unknown ? h("span", { class: "dont-know" }, t("stats.unknown", { n: figures.unknown })) : null;
  // Held back by the k rule: say how many answers there are, never "no answers".
  if (figures?.withheld) return h("p", { class: "figures withheld" }, h("span", {}, t("stats.withheld", { n: figures.withheld })));
  if (!figures || !figures.n) return h("p", { class: "figures muted" }, h("span", {}, t("results.none")), unknown);
  const desired = figures.desired;
  return h(
    "p",
    { class: "figures" },
    h("span", {}, t("stats.n", { n: figures.n })),
    h("span", {}, t("stats.mean", { mean: formatNumber(figures.mean, language) })),
    h("span", {}, t("stats.median", { median: formatNumber(figures.median, language) })),
    h("span", {}, t("stats.sd", { sd: formatNumber(figures.sd, language) })),
    unknown,
    desired?.n ? h("span", { class: "desired" }, t("stats.desired", { mean: formatNumber(desired.mean, language) })) : null,
    desired?.withheld ? h("span", { class: "desired withheld" }, t("stats.desiredWithheld", { n: desired.withheld })) : null,
    figures.gap !== null && figures.gap !== undefined ? h("span", { class: "gap" }, t("stats.gap", { gap: signed(figures.gap, language) })) : null,
    figures.insight ? h("span", { class: `insight insight-${figures.insight}` }, t(`insight.${figures.insight}`)) : null,
  );
}

function signed(value, language) {
  return (value > 0 ? "+" : "") + formatNumber(value, language);
}

/** "Round 1 → 2: mean 5.3 → 3.7", and how many moved which way (when that may be shown). */
export function shiftLine(figures, { t, language }) {
  const earlier = figures?.previous;
  if (!earlier) return null;
  const rounds = { from: earlier.round, to: earlier.round + 1 };
  if (earlier.withheld) return h("p", { class: "shift withheld" }, h("span", {}, t("shift.withheld", { ...rounds, n: earlier.withheld })));
  if (!earlier.n || !figures.n) return null;
  const counts = earlier.moved_left === null || earlier.moved_left === undefined
    ? null
    : [
        t("shift.left", { n: earlier.moved_left }),
        t("shift.right", { n: earlier.moved_right }),
        t("shift.stayed", { n: earlier.stayed }),
        // The shift is over those who graded both rounds: say who it leaves out.
        ...(earlier.not_again ? [t("shift.notAgain", { n: earlier.not_again })] : []),
      ];
  // Each count kept on one line ("2 svarade inte igen" never loses its last word to the next).
  const moved = counts && h("span", { class: "shift-counts" },
    counts.flatMap((count, index) => [index ? " · " : "", h("span", { class: "shift-count" }, count)]));
  return h(
    "p",
    { class: "shift" },
    h("span", {}, t("shift.line", { ...rounds, before: formatNumber(earlier.mean, language), after: formatNumber(figures.mean, language) })),
    moved,
  );
}

/** A sort key, larger = more to discuss: two camps, then spread out, by standard deviation. */
export function disagreementKey(figures) {
  const rank = { two_camps: 3, spread: 2, agreement: 1, too_few: 0 }[figures?.insight] ?? 0;
  return rank * 100 + (figures?.sd ?? 0);
}

/**
 * What the chart's symbols mean, each shown with the very shape the chart draws.
 * `desired`: the room asks where we want to be; `previous`: from round 2 on; `mine`: the
 * viewer's own answer is ringed; `means: false` for compact charts, which draw no marker of
 * last round's or the desired mean.
 */
export function legend(t, desired = false, { previous = false, mine = false, means = true } = {}) {
  const item = (icon, key) => h("span", { class: "legend-item" }, legendIcon(icon), t(key));
  return h(
    "p",
    { class: "legend" },
    item("mean", "spectrum.legendMean"),
    item("median", "spectrum.legendMedian"),
    item("spread", "spectrum.legendSpread"),
    previous ? [item("previous", "spectrum.legendPrevious"), means ? item("previousMean", "spectrum.legendPreviousMean") : null] : null,
    desired ? [item("desired", "spectrum.legendDesired"), means ? item("desiredMean", "spectrum.legendDesiredMean") : null] : null,
    mine ? item("mine", "spectrum.legendMine") : null,
  );
}

const ROW = 48;

/** Ten means on one axis, joined by a line: the group's profile at a glance. */
export function polarityProfile(template, spectrum, { t, language }) {
  const statements = template.statements;
  const byId = new Map((spectrum?.statements ?? []).map((entry) => [entry.statement_id, entry]));
  const items = [];
  const track = s("svg", {
    viewBox: `0 0 420 ${statements.length * ROW}`,
    class: "profile-track",
    role: "img",
  });
  const points = [];
  statements.forEach((statement, index) => {
    const cy = index * ROW + ROW / 2;
    track.append(s("line", { x1: x(1), x2: x(10), y1: cy, y2: cy, class: "track" }));
    for (let value = 1; value <= 10; value += 1) {
      track.append(s("line", { x1: x(value), x2: x(value), y1: cy - 4, y2: cy + 4, class: "track-tick" }));
    }
    const mean = byId.get(statement.id)?.mean;
    const left = pickText(statement.left, language, template.languages);
    items.push(`${index + 1}. ${left}: ${formatNumber(mean, language)}`);
    if (mean !== null && mean !== undefined) points.push([x(mean), cy, mean]);
  });
  if (points.length > 1) {
    track.append(s("polyline", { points: points.map(([px, py]) => `${px},${py}`).join(" "), class: "profile-line" }));
  }
  for (const [px, py, mean] of points) {
    track.append(s("circle", { cx: px, cy: py, r: 8, class: "profile-dot" }));
    track.append(s("text", { x: px, y: py - 12, class: "profile-value", "text-anchor": "middle" }, formatNumber(mean, language)));
  }
  track.setAttribute("aria-label", t("profile.aria", { items: items.join("; ") }));
  const rows = statements.map((statement, index) =>
    [
      h("div", { class: "profile-left", "aria-hidden": "true" }, `${index + 1}. ${pickText(statement.left, language, template.languages)}`),
      h("div", { class: "profile-right", "aria-hidden": "true" }, pickText(statement.right, language, template.languages)),
    ],
  );
  const grid = h("div", { class: "profile-grid" });
  grid.style.setProperty("--rows", String(statements.length));
  rows.forEach(([left, right], index) => {
    left.style.gridRow = String(index + 1);
    right.style.gridRow = String(index + 1);
    grid.append(left, right);
  });
  track.style.gridRow = `1 / span ${statements.length}`;
  grid.append(track);
  const overall = spectrum?.overall;
  return h(
    "figure",
    { class: "profile" },
    grid,
    h("figcaption", {}, t("profile.overall", { value: formatNumber(overall, language) })),
  );
}

/** The same figures as a table, for screen readers and for anyone who prefers numbers. */
export function figuresTable(template, spectrum, { t, language }) {
  const byId = new Map((spectrum?.statements ?? []).map((entry) => [entry.statement_id, entry]));
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, t("table.statement")),
    ["n", "mean", "median", "sd"].map((key) => h("th", { scope: "col" }, t(`stats.${key}`, { n: "", mean: "", median: "", sd: "" }).trim())),
    Array.from({ length: 10 }, (_, i) => h("th", { scope: "col" }, String(i + 1))),
  );
  const body = template.statements.map((statement, index) => {
    const f = byId.get(statement.id);
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, `${index + 1}. ${pickText(statement.left, language, template.languages)} – ${pickText(statement.right, language, template.languages)}`),
      h("td", {}, String(f?.n ?? 0)),
      h("td", {}, formatNumber(f?.mean, language)),
      h("td", {}, formatNumber(f?.median, language)),
      h("td", {}, formatNumber(f?.sd, language)),
      (f?.histogram ?? Array(10).fill(0)).map((count) => h("td", {}, String(count))),
    );
  });
  return h(
    "details",
    { class: "figures-table" },
    h("summary", {}, t("table.show")),
    h("div", { class: "table-scroll" }, h("table", {}, h("thead", {}, head), h("tbody", {}, body))),
  );
}
