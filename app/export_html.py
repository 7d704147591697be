"""The report as one self-contained HTML file, to read, mail and print: inline CSS and SVG
(the distributions and the polarity profile), the tables of app/report.py, the questions,
the notes and the action columns, and the material's credit. It loads nothing from
anywhere; a print stylesheet sets A4 pages. User text is escaped. Pure.
"""

from __future__ import annotations

import html
import textwrap

from app.export_markdown import round_headers, round_values
from app.report import Report
from app.snapshot import BoardExport, ExportedAggregate

REPORT_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f23;
  max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { margin-bottom: 0.25rem; } .meta { color: #4f5660; margin-top: 0; }
section.statement { break-inside: avoid; border-top: 1px solid #c9cdd2; padding: 0.5rem 0; }
.poles { display: flex; justify-content: space-between; gap: 1rem; font-weight: 600; }
.poles span:last-child { text-align: right; }
.figures { color: #333; font-variant-numeric: tabular-nums; margin: 0.25rem 0 0; }
svg { display: block; max-width: 100%; height: auto; }
.bar { fill: #5b8fa3; } .axis { stroke: #555; } .tick { font-size: 11px; fill: #4f5660; }
.count { font-size: 11px; font-weight: 700; } .mean { fill: #1b1f23; }
.median { fill: #fff; stroke: #1b1f23; stroke-width: 2; }
.profile-line { fill: none; stroke: #1f4e5f; stroke-width: 2.5; } .dot { fill: #1f4e5f; }
.track { stroke: #9aa0a6; }
.label { font-size: 12px; fill: #1b1f23; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg.profile { max-width: 30rem; break-inside: avoid; } h2 { break-after: avoid; }
table { border-collapse: collapse; } th, td { border: 1px solid #c9cdd2; padding: 0.2rem 0.5rem; }
ul.notes { padding-left: 1.2rem; } ul.notes li { margin-bottom: 0.3rem; }
.note-meta { color: #4f5660; font-size: 0.9em; }
.area, .column { break-inside: avoid-page; }
.credit { color: #4f5660; font-size: 0.85em; border-top: 1px solid #c9cdd2; margin-top: 2rem; padding-top: 0.5rem; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def _x(value: float) -> float:
    return 20 + (value - 1) * 36


def _histogram_svg(report: Report, label: str, figures: ExportedAggregate | None) -> str:
    histogram = figures.histogram if figures else [0] * 10
    peak = max(histogram) or 1
    parts = [
        f'<svg viewBox="0 0 364 112" role="img" aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        '<line class="axis" x1="2" x2="362" y1="66" y2="66"/>',
    ]
    for index, count in enumerate(histogram):
        value = index + 1
        height = count / peak * 50
        if count:
            top = 66 - height
            parts.append(f'<rect class="bar" x="{_x(value) - 12:.1f}" y="{top:.1f}" width="24" height="{height:.1f}"/>')
            parts.append(
                f'<text class="count" x="{_x(value):.1f}" y="{61 - height:.1f}" text-anchor="middle">{count}</text>'
            )
        parts.append(f'<text class="tick" x="{_x(value):.1f}" y="80" text-anchor="middle">{value}</text>')
    if figures and figures.n and figures.mean is not None and figures.median is not None:
        mx, dx = _x(figures.mean), _x(figures.median)
        parts.append(f'<path class="mean" d="M{mx:.1f} 84 l6 10 h-12 z"/>')
        # Below the axis, under the mean: never over a bar's count.
        parts.append(f'<path class="median" d="M{dx:.1f} 97 l5 6 l-5 6 l-5 -6 z"/>')
    parts.append("</svg>")
    return "".join(parts)


# The polarity profile, in its own units: drawn at most 30rem wide (REPORT_CSS), so its
# labels are 12 units = 12-14 px on a screen and on A4, and no smaller than 10 px on a phone.
PROFILE_WIDTH = 400
PROFILE_PAD = 8
LABEL_SIZE = 12
LABEL_LINE = 15
# SVG text does not wrap by itself: a label is broken into lines by an estimate of its
# letters' width, that of DejaVu Sans (the widest of the usual sans-serifs) at LABEL_SIZE.
LETTER_WIDTH = 0.6 * LABEL_SIZE
# Each pole gets half a row, beside the other, above its track.
LABEL_WIDTH = (PROFILE_WIDTH - 2 * PROFILE_PAD - 16) / 2
TRACK_LEFT, TRACK_RIGHT = PROFILE_PAD + 8, PROFILE_WIDTH - PROFILE_PAD - 8


def _profile_x(value: float) -> float:
    return TRACK_LEFT + (value - 1) / 9 * (TRACK_RIGHT - TRACK_LEFT)


def _label_lines(text: str) -> list[str]:
    return textwrap.wrap(text, width=int(LABEL_WIDTH // LETTER_WIDTH), break_long_words=False) or [""]


def _label(lines: list[str], x: float, top: float, anchor: str) -> str:
    """One pole, every word of it, a line under the other (never cut short)."""
    spans = "".join(
        f'<tspan x="{x}" y="{top + LABEL_SIZE + index * LABEL_LINE:.1f}">{html.escape(line)}</tspan>'
        for index, line in enumerate(lines)
    )
    return f'<text class="label" text-anchor="{anchor}">{spans}</text>'


def _profile_svg(report: Report) -> str:
    """Each statement's two poles in full above its track (1 to 10), a dot at the mean and a
    line through the dots."""
    parts = []
    labels = []
    points = []
    top = 4.0
    for line in report.statements:
        left = _label_lines(f"{line.number}. {line.left}")
        right = _label_lines(line.right)
        labels.append(_label(left, PROFILE_PAD, top, "start"))
        labels.append(_label(right, PROFILE_WIDTH - PROFILE_PAD, top, "end"))
        y = top + max(len(left), len(right)) * LABEL_LINE + 10
        parts.append(f'<line class="track" x1="{_profile_x(1):.1f}" x2="{_profile_x(10):.1f}" y1="{y}" y2="{y}"/>')
        parts += [
            f'<line class="track" x1="{_profile_x(v):.1f}" x2="{_profile_x(v):.1f}" y1="{y - 3}" y2="{y + 3}"/>'
            for v in range(1, 11)
        ]
        figures = report.figures(line.statement.id)
        if figures and figures.mean is not None:
            points.append((_profile_x(figures.mean), y))
        top = y + 14
    if len(points) > 1:
        joined = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline class="profile-line" points="{joined}"/>')
    parts += [f'<circle class="dot" cx="{px:.1f}" cy="{py:.1f}" r="5"/>' for px, py in points]
    # The labels last, over the line where it crosses them, each on a white halo.
    parts += labels
    label = html.escape(report.t("profile.heading"))
    return (
        f'<svg class="profile" viewBox="0 0 {PROFILE_WIDTH} {top:.0f}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def render_html(export: BoardExport) -> bytes:
    report = Report(export)
    t = report.t
    e = html.escape
    body = [
        f"<h1>{e(export.room.title)}</h1>",
        f'<p class="meta">{e(report.meta_line())}</p>',
        f"<h2>{e(report.text(report.template.grading.title))}</h2>",
        f"<p>1 = {e(report.text(report.template.grading.left_label))}; "
        f"10 = {e(report.text(report.template.grading.right_label))}</p>",
    ]
    for line in report.statements:
        figures = report.figures(line.statement.id)
        if figures and figures.withheld is not None:
            numbers = e(t("report.withheldAnswers", n=figures.withheld))
        elif figures and figures.n:
            numbers = (
                f"{e(t('report.n'))} {figures.n} · {e(t('report.mean'))} {report.number(figures.mean)} · "
                f"{e(t('report.median'))} {report.number(figures.median)} · "
                f"{e(t('report.sd'))} {report.number(figures.sd)}"
            )
        else:
            numbers = e(t("report.noAnswers"))
        numbers += e(report.unknown_note(figures)) + e(report.insight_note(figures))
        body.append(
            f'<section class="statement"><div class="poles">'
            f"<span>{line.number}. {e(line.left)}</span><span>{e(line.right)}</span></div>"
            f"{_histogram_svg(report, f'{line.number}. {line.left} – {line.right}', figures)}"
            f'<p class="figures">{numbers}</p></section>'
        )
    if rows := report.rounds_table():
        headers = [header for r in report.rounds for header in round_headers(report, r)]
        head = "".join(f"<th>{e(h)}</th>" for h in headers)
        body.append(f"<h2>{e(t('report.rounds'))}</h2><table><tr><th>#</th><th>{e(t('report.left'))}</th>{head}</tr>")
        for line, cells in rows:
            values = "".join(f"<td>{report.cell(v)}</td>" for r in cells for v in round_values(r))
            body.append(f"<tr><td>{line.number}</td><td>{e(line.left)}</td>{values}</tr>")
        body.append("</table>")
    if desired_rows := report.desired_table():
        heads = (t("report.left"), t("report.today"), t("report.desired"), t("report.gap"))
        head = "".join(f"<th>{e(h)}</th>" for h in heads)
        body.append(f"<h2>{e(t('report.desiredHeading'))}</h2><table><tr><th>#</th>{head}</tr>")
        for line, current in desired_rows:
            values = "".join(f"<td>{report.cell(v)}</td>" for v in round_values(current))
            body.append(f"<tr><td>{line.number}</td><td>{e(line.left)}</td>{values}</tr>")
        body.append("</table>")
    if group_rows := report.groups_table():
        head = "".join(f"<th>{e(g.name)} ({g.voters})</th>" for g in export.group_figures)
        body.append(f"<h2>{e(t('report.groups'))}</h2><table><tr><th>#</th><th>{e(t('report.left'))}</th>{head}</tr>")
        for line, means in group_rows:
            values = "".join(f"<td>{report.cell(m)}</td>" for m in means)
            body.append(f"<tr><td>{line.number}</td><td>{e(line.left)}</td>{values}</tr>")
        body.append("</table>")
    if hidden := report.hidden_groups_note():
        body.append(f"<p><em>{e(hidden)}</em></p>")
    if report.has_withheld():
        body.append(f'<p class="note-meta">{e(report.withheld_note())}</p>')
    body += [
        f"<h2>{e(t('profile.heading'))}</h2>",
        _profile_svg(report),
        f"<p><strong>{e(t('report.overall'))}: {report.number(export.overall)}</strong></p>",
    ]
    if report.template.questions:
        body.append(f"<h2>{e(report.text(report.template.reflection_title) or t('phase.reflect'))}</h2><ol>")
        body += [f"<li>{e(report.text(q.text))}</li>" for q in report.template.questions]
        body.append("</ol>")
    for area in report.template.areas:
        kind = "column" if area.kind == "column" else "area"
        prompt = f"{e(report.text(area.prompt))} – " if area.prompt else ""
        body.append(f'<section class="{kind}"><h2>{prompt}{e(report.text(area.title))}</h2>')
        if area.hint:
            body.append(f'<p class="note-meta">{e(report.text(area.hint))}</p>')
        notes = report.notes_in(area.id)
        if not notes:
            body.append(f"<p><em>{e(t('report.noNotes'))}</em></p>")
        else:
            body.append('<ul class="notes">')
            for note in notes:
                meta = []
                if note.author_name:
                    meta.append(e(note.author_name))
                if note.votes:
                    meta.append(e(t("report.votes", n=note.votes)))
                if linked := report.linked_note(note):
                    meta.append("↔ " + e(linked))
                suffix = f' <span class="note-meta">({" · ".join(meta)})</span>' if meta else ""
                body.append(f"<li>{e(note.text)}{suffix}</li>")
            body.append("</ul>")
        body.append("</section>")
    if report.template.credit:
        body.append(f'<p class="credit">{e(t("credit.label"))}: {e(report.text(report.template.credit))}</p>')
    document = (
        f'<!doctype html><html lang="{report.language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(export.room.title)} – Samskapa</title><style>{REPORT_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    return document.encode()
