// One statement's distribution as an SVG: bars for 1..10 and the markers of its figures,
// laid out so that nothing drawn ever covers a number.
//
// Every kind of thing has a place of its own, from the top down:
//
//   median band   ◇ the median, above everything else
//   bars          per value one lane per series (last round dashed, today solid, desired
//                 light), side by side and never on top of each other; today's count
//                 above the tallest bar of its value, so no bar reaches into it
//   axis          and the values 1..10 under it (your own answer ringed, not covered)
//   today row     ▲ the mean on its ± 1 sd line
//   previous row  ○ last round's mean, an arrow to today's (from round 2 on)
//   desired row   ▽ the desired mean, an arrow from today's (when the room asks for it)
//
// Rows and lanes are kept whenever the series exists (the room is in round 2, or asks for
// the desired value), with or without answers yet, so that every statement's chart has
// the same layout. Held-back figures (`withheld`, the k rule) draw no bars and no markers.

import { s } from "./dom.js";
import { describeHistogram, formatNumber } from "./format.js";

export const WIDTH = 408;
const X0 = 24;
const STEP = 40;
const MEDIAN_Y = 8; // centre of the median band (2..14)
const BASE = 90; // the axis
const BAR_MAX = 56; // so that a count sits at 30 at the highest, clear of the median band
const TICK_Y = BASE + 15;
const TODAY_Y = 116;
const ROW = 16;
const LANE_GAP = 2;
const DIGIT_WIDTH = 8.5; // a bold digit of the 13-unit count, with a little room
export const x = (value) => X0 + (value - 1) * STEP;

/** Shapes shared by the chart and its legend, so that the legend shows what is drawn. */
export const shapes = {
  mean: (cx, cy) => s("path", { d: `M${cx} ${cy - 6} l7 12 h-14 z`, class: "mean-marker" }),
  median: (cx, cy) => s("path", { d: `M${cx} ${cy - 6} l6 6 l-6 6 l-6 -6 z`, class: "median-marker" }),
  previousMean: (cx, cy) => s("circle", { cx, cy, r: 5, class: "previous-marker" }),
  desiredMean: (cx, cy) => s("path", { d: `M${cx} ${cy + 6} l7 -12 h-14 z`, class: "desired-marker" }),
  spread: (from, to, cy) => [
    s("line", { x1: from, x2: to, y1: cy, y2: cy, class: "spread" }),
    s("line", { x1: from, x2: from, y1: cy - 4, y2: cy + 4, class: "spread" }),
    s("line", { x1: to, x2: to, y1: cy - 4, y2: cy + 4, class: "spread" }),
  ],
  bar: (left, width, height, kind) => s("rect", { x: left, y: BASE - height, width, height, rx: 2, class: kind }),
  mine: (cx) => s("circle", { cx, cy: TICK_Y - 4, r: 10, class: "mine-marker" }),
};

/**
 * An arrow from `from` to `to` on row `cy`, stopping `short` before `to` (where a marker is
 * drawn), or nothing when there is no way to go.
 */
function arrow(from, to, cy, kind, short = 0) {
  const direction = Math.sign(to - from);
  const end = to - direction * short;
  if ((end - from) * direction < 4) return null;
  const head = -direction * 6;
  return s("path", { d: `M${from} ${cy} H${end} m${head} -4 l${-head} 4 l${head} 4`, class: kind });
}

const shown = (series) => Boolean(series) && !series.withheld && series.n > 0;

/** The lanes of one value: where each series' bar goes, relative to the value's centre. */
function lanes(kinds) {
  if (kinds.length === 1) return { [kinds[0]]: { offset: -14, width: 28 } };
  const width = (36 - LANE_GAP * (kinds.length - 1)) / kinds.length;
  return Object.fromEntries(kinds.map((kind, index) => [kind, { offset: -18 + index * (width + LANE_GAP), width }]));
}

function describe(figures, { t, language, label }) {
  const unknown = figures?.unknown ? ` ${t("stats.unknown", { n: figures.unknown })}.` : "";
  if (figures?.withheld) return `${label}. ${t("stats.withheld", { n: figures.withheld })}.`;
  if (!figures?.n) return `${label}. ${t("results.none")}${unknown}`;
  return t("spectrum.aria", {
    statement: label,
    n: figures.n,
    mean: formatNumber(figures.mean, language),
    median: formatNumber(figures.median, language),
    spread: figures.insight ? t(`insight.${figures.insight}`) : "",
    bars: describeHistogram(figures.histogram, (count, value) => t("spectrum.bar", { count, value })),
  }) + unknown;
}

/**
 * A statement's distribution. `figures` is a spectrum entry (or null while there is none);
 * `mine` the viewer's own grade, ringed on the axis; `compact` leaves out the rows of last
 * round's and the desired mean (their bars stay), for a row among ten on one screen.
 */
export function distributionChart(figures, { t, language, label, mine = null, compact = false }) {
  const earlier = figures?.previous ?? null;
  const wanted = figures?.desired ?? null;
  const kinds = [earlier ? "bar-previous" : null, "bar", wanted ? "bar-desired" : null].filter(Boolean);
  const series = { "bar-previous": earlier, bar: figures, "bar-desired": wanted };
  const rows = {
    previous: earlier && !compact ? TODAY_Y + ROW : null,
    desired: wanted && !compact ? TODAY_Y + ROW * (earlier ? 2 : 1) : null,
  };
  const height = Math.max(rows.previous ?? 0, rows.desired ?? 0, TODAY_Y) + 10;
  const chart = s("svg", { viewBox: `0 0 ${WIDTH} ${height}`, class: "distribution", role: "img", "aria-label": describe(figures, { t, language, label }) });
  const drawn = kinds.filter((kind) => shown(series[kind]));
  // One scale for every series: a bar twice as high holds twice the answers.
  const peak = Math.max(1, ...drawn.flatMap((kind) => series[kind].histogram));
  const place = lanes(kinds);
  const bars = [];
  const labels = [];
  for (let value = 1; value <= 10; value += 1) {
    let tallest = 0;
    for (const kind of drawn) {
      const count = series[kind].histogram[value - 1];
      if (!count) continue;
      const barHeight = (count / peak) * BAR_MAX;
      tallest = Math.max(tallest, barHeight);
      bars.push(shapes.bar(x(value) + place[kind].offset, place[kind].width, barHeight, kind));
    }
    const count = shown(figures) ? figures.histogram[value - 1] : 0;
    if (count) {
      // On today's own bar, so that it is read as today's, when it fits between the lanes
      // beside it; above the tallest bar of the value when it is wider than that.
      const centre = x(value) + place.bar.offset + place.bar.width / 2;
      const own = (count / peak) * BAR_MAX;
      const fits = String(count).length * DIGIT_WIDTH <= place.bar.width + 2 * LANE_GAP;
      labels.push(s("text", { x: centre, y: BASE - (fits ? own : tallest) - 4, class: "bar-count", "text-anchor": "middle" }, String(count)));
    }
    labels.push(s("text", { x: x(value), y: TICK_Y, class: "tick", "text-anchor": "middle" }, String(value)));
  }
  chart.append(...bars, s("line", { x1: 4, x2: WIDTH - 4, y1: BASE, y2: BASE, class: "axis" }), ...labels);
  if (typeof mine === "number") chart.append(shapes.mine(x(mine)));
  if (!shown(figures)) return chart;
  const mx = x(figures.mean);
  chart.append(...shapes.spread(x(Math.max(1, figures.mean - figures.sd)), x(Math.min(10, figures.mean + figures.sd)), TODAY_Y));
  chart.append(shapes.mean(mx, TODAY_Y), shapes.median(x(figures.median), MEDIAN_Y));
  if (shown(earlier) && rows.previous) {
    const from = x(earlier.mean);
    chart.append(...[arrow(from + Math.sign(mx - from) * 6, mx, rows.previous, "shift-arrow"), shapes.previousMean(from, rows.previous)].filter(Boolean));
  }
  if (shown(wanted) && rows.desired) {
    const to = x(wanted.mean);
    chart.append(...[arrow(mx, to, rows.desired, "gap-arrow", 8), shapes.desiredMean(to, rows.desired)].filter(Boolean));
  }
  return chart;
}

/** A legend entry's symbol: the chart's own shape, drawn alone in a small SVG. */
export function legendIcon(kind) {
  const icon = s("svg", { viewBox: "0 0 28 16", class: "legend-icon", "aria-hidden": "true", focusable: "false" });
  const draw = {
    mean: () => shapes.mean(14, 8),
    median: () => shapes.median(14, 8),
    spread: () => shapes.spread(3, 25, 8),
    previous: () => s("rect", { x: 8, y: 2, width: 12, height: 13, rx: 2, class: "bar-previous" }),
    previousMean: () => shapes.previousMean(14, 8),
    desired: () => s("rect", { x: 8, y: 2, width: 12, height: 13, rx: 2, class: "bar-desired" }),
    desiredMean: () => shapes.desiredMean(14, 8),
    mine: () => s("circle", { cx: 14, cy: 8, r: 6, class: "mine-marker" }),
  }[kind];
  icon.append(...[draw()].flat());
  return icon;
}
