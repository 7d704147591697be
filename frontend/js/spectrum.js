// Drawing the shared spectrum: one distribution per statement and the polarity profile.
// Every chart is an SVG with a text alternative; shapes and words carry the meaning, not colour.

import { h, s } from "./dom.js";
import { describeHistogram, formatNumber } from "./format.js";
import { pickText } from "./i18n.js";

const X0 = 24;
const STEP = 40;
const x = (value) => X0 + (value - 1) * STEP;

/** A statement's distribution: bars for 1..10, ▲ mean, ◆ median, a ±1 sd line, your score. */
export function distributionChart(figures, { t, language, label, mine = null }) {
  const histogram = figures?.histogram ?? Array(10).fill(0);
  const n = figures?.n ?? 0;
  const peak = Math.max(1, ...histogram);
  const unknown = figures?.unknown ? ` ${t("stats.unknown", { n: figures.unknown })}.` : "";
  const description = (n
    ? t("spectrum.aria", {
        statement: label,
        n,
        mean: formatNumber(figures.mean, language),
        median: formatNumber(figures.median, language),
        spread: figures.insight ? t(`insight.${figures.insight}`) : "",
        bars: describeHistogram(histogram, (count, value) => t("spectrum.bar", { count, value })),
      })
    : `${label}. ${t("results.none")}`) + unknown;
  const chart = s("svg", { viewBox: "0 0 408 116", class: "distribution", role: "img", "aria-label": description });
  chart.append(s("line", { x1: 4, x2: 404, y1: 80, y2: 80, class: "axis" }));
  const earlier = figures?.previous;
  if (earlier && earlier.n) {
    const top = Math.max(peak, ...earlier.histogram);
    earlier.histogram.forEach((count, index) => {
      if (!count) return;
      const height = (count / top) * 58;
      chart.append(s("rect", { x: x(index + 1) - 14, y: 80 - height, width: 28, height, rx: 3, class: "bar-previous" }));
    });
  }
  histogram.forEach((count, index) => {
    const value = index + 1;
    const height = (count / peak) * 58;
    if (count > 0) {
      chart.append(s("rect", { x: x(value) - 14, y: 80 - height, width: 28, height, rx: 3, class: "bar" }));
      chart.append(s("text", { x: x(value), y: 74 - height, class: "bar-count", "text-anchor": "middle" }, String(count)));
    }
    chart.append(s("text", { x: x(value), y: 95, class: "tick", "text-anchor": "middle" }, String(value)));
  });
  const wanted = figures?.desired;
  if (wanted && wanted.n) {
    const top = Math.max(peak, ...wanted.histogram);
    wanted.histogram.forEach((count, index) => {
      if (!count) return;
      const height = (count / top) * 58;
      chart.append(s("rect", { x: x(index + 1) + 2, y: 80 - height, width: 12, height, class: "bar-desired" }));
    });
    const dx = x(wanted.mean);
    chart.append(s("path", { d: `M${dx} 110 l7 -12 h-14 z`, class: "desired-marker" }));
    if (n && Math.abs(wanted.mean - figures.mean) >= 0.05) {
      const from = x(figures.mean);
      const head = dx > from ? -6 : 6;
      chart.append(s("path", { d: `M${from} 114 H${dx} m${head} -4 l${-head} 4 l${head} 4`, class: "gap-arrow" }));
    }
  }
  if (n) {
    const { mean, median, sd } = figures;
    const low = Math.max(1, mean - sd);
    const high = Math.min(10, mean + sd);
    chart.append(s("line", { x1: x(low), x2: x(high), y1: 104, y2: 104, class: "spread" }));
    chart.append(s("line", { x1: x(low), x2: x(low), y1: 100, y2: 108, class: "spread" }));
    chart.append(s("line", { x1: x(high), x2: x(high), y1: 100, y2: 108, class: "spread" }));
    const mx = x(mean);
    if (earlier?.mean !== null && earlier?.mean !== undefined && Math.abs(earlier.mean - mean) >= 0.05) {
      const from = x(earlier.mean);
      const head = mx > from ? -6 : 6;
      chart.append(s("path", { d: `M${from} 112 H${mx} m${head} -4 l${-head} 4 l${head} 4`, class: "shift-arrow" }));
    }
    chart.append(s("path", { d: `M${mx} 98 l7 12 h-14 z`, class: "mean-marker" }));
    const dx = x(median);
    chart.append(s("path", { d: `M${dx} 2 l6 7 l-6 7 l-6 -7 z`, class: "median-marker" }));
  }
  if (mine) {
    chart.append(s("circle", { cx: x(mine), cy: 86, r: 4, class: "mine-marker" }));
  }
  return chart;
}

/** The words beside a chart: n, mean, median, sd, and a plain-language spread label. */
export function figuresLine(figures, { t, language }) {
  const unknown = figures?.unknown ? h("span", { class: "dont-know" }, t("stats.unknown", { n: figures.unknown })) : null;
  if (!figures || !figures.n) return h("p", { class: "figures muted" }, h("span", {}, t("results.none")), unknown);
  return h(
    "p",
    { class: "figures" },
    h("span", {}, t("stats.n", { n: figures.n })),
    h("span", {}, t("stats.mean", { mean: formatNumber(figures.mean, language) })),
    h("span", {}, t("stats.median", { median: formatNumber(figures.median, language) })),
    h("span", {}, t("stats.sd", { sd: formatNumber(figures.sd, language) })),
    unknown,
    figures.desired?.n ? h("span", { class: "desired" }, t("stats.desired", { mean: formatNumber(figures.desired.mean, language) })) : null,
    figures.gap !== null && figures.gap !== undefined ? h("span", { class: "gap" }, t("stats.gap", { gap: signed(figures.gap, language) })) : null,
    figures.insight ? h("span", { class: `insight insight-${figures.insight}` }, t(`insight.${figures.insight}`)) : null,
  );
}

function signed(value, language) {
  return (value > 0 ? "+" : "") + formatNumber(value, language);
}

/** "Round 1 → 2: mean 5.3 → 3.7", and how many moved which way. */
export function shiftLine(figures, { t, language }) {
  const earlier = figures?.previous;
  if (!earlier) return null;
  return h(
    "p",
    { class: "shift" },
    h("span", {}, t("shift.line", { from: earlier.round, to: earlier.round + 1, before: formatNumber(earlier.mean, language), after: formatNumber(figures.mean, language) })),
    h("span", {}, [
      t("shift.left", { n: earlier.moved_left }),
      t("shift.right", { n: earlier.moved_right }),
      t("shift.stayed", { n: earlier.stayed }),
    ].join(" · ")),
  );
}

/** A sort key, larger = more to discuss: two camps, then spread out, by standard deviation. */
export function disagreementKey(figures) {
  const rank = { two_camps: 3, spread: 2, agreement: 1, too_few: 0 }[figures?.insight] ?? 0;
  return rank * 100 + (figures?.sd ?? 0);
}

export function legend(t, desired = false) {
  return h(
    "p",
    { class: "legend" },
    h("span", {}, t("spectrum.legendMean")),
    h("span", {}, t("spectrum.legendMedian")),
    h("span", {}, t("spectrum.legendSpread")),
    desired ? h("span", {}, t("spectrum.legendDesired")) : null,
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
