"""Renderers for an exported board: JSON, CSV, Markdown and a self-contained HTML report.

Pure functions of a `BoardExport` (and the room's language): no I/O, no FastAPI. User text is
escaped for each format; the HTML report loads nothing from anywhere (inline CSS and SVG).
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from app.insight import classify
from app.locales import Translate, translator
from app.snapshot import BoardExport, ExportedAggregate, ExportedNote
from app.templates.model import Language

SPARKS = "▁▂▃▄▅▆▇█"
# Swedish and Finnish spreadsheets read a decimal comma and expect semicolons between fields.
CSV_STYLE: dict[str, tuple[str, str]] = {"sv": (";", ","), "fi": (";", ","), "en": (",", ".")}


class _View:
    """What every renderer needs: texts in the room's language and the current round."""

    def __init__(self, export: BoardExport) -> None:
        self.export = export
        self.language: Language = export.room.language
        self.t: Translate = translator(self.language)
        self.template = export.template
        self.current = {
            a.statement_id: a for a in export.aggregates if a.round == export.room.round and a.kind == "today"
        }

    def text(self, localized: Mapping[Language, str] | None) -> str:
        if not localized:
            return ""
        if self.language in localized:
            return localized[self.language]
        for language in self.template.languages:
            if language in localized:
                return localized[language]
        return next(iter(localized.values()))

    def number(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        formatted = f"{value:.{digits}f}"
        return formatted.replace(".", ",") if self.language in {"sv", "fi"} else formatted

    def date(self, moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d")

    def insight_note(self, figures: ExportedAggregate | None) -> str:
        if not figures or not figures.n:
            return ""
        return " · " + self.t(f"insight.{classify(figures.histogram)}")

    def linked_note(self, note: ExportedNote) -> str:
        if not note.statement_id:
            return ""
        numbers = {s.id: i for i, s in enumerate(self.template.statements, start=1)}
        return self.t("report.linked", n=numbers.get(note.statement_id, "?"))

    def unknown_note(self, figures: ExportedAggregate | None) -> str:
        if not figures or not figures.unknown:
            return ""
        return " " + self.t("stats.unknown", n=figures.unknown)

    def figures(self, statement_id: str) -> ExportedAggregate | None:
        return self.current.get(statement_id)

    def notes_in(self, area_id: str) -> list[ExportedNote]:
        return sorted((n for n in self.export.notes if n.area_id == area_id), key=lambda n: n.order)

    def author(self, note: ExportedNote) -> str | None:
        names = {p.id: p.name for p in self.export.participants}
        return names.get(note.author_id)

    def participants_line(self) -> str:
        return self.t("report.participants", n=len(self.export.participants), voters=self.export.voters)


def file_name(export: BoardExport, extension: str) -> str:
    """The room title and the date, safe as a file name on every system."""
    ascii_title = unicodedata.normalize("NFKD", export.room.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()[:60] or "samskapa"
    return f"{slug}-{export.exported_at:%Y-%m-%d}.{extension}"


def render_json(export: BoardExport) -> bytes:
    return export.model_dump_json(indent=2).encode()


# ------------------------------------------------------------ CSV


def render_csv(export: BoardExport) -> bytes:
    """Two sections: one row per statement and round with its figures (rounds in order, so a
    spreadsheet can compare them), then every answer, anonymised (participants numbered in
    order of joining, no names). UTF-8 with BOM, for Excel."""
    view = _View(export)
    t = view.t
    delimiter, _ = CSV_STYLE[view.language]
    out = io.StringIO()
    out.write("\ufeff")
    writer = _InertCells(csv.writer(out, delimiter=delimiter, lineterminator="\r\n"))
    writer.writerow(
        [
            "#",
            t("report.left"),
            t("report.right"),
            t("report.n"),
            t("report.mean"),
            t("report.median"),
            t("report.sd"),
            *(t("report.count", value=value) for value in range(1, 11)),
            t("slider.unknown"),
            t("report.round"),
            t("report.kind"),
            t("report.insight"),
        ]
    )
    numbered = {s.id: (i, s) for i, s in enumerate(view.template.statements, start=1)}
    for figures in sorted(export.aggregates, key=lambda a: (a.round, a.kind != "today", numbered[a.statement_id][0])):
        index, statement = numbered[figures.statement_id]
        writer.writerow(
            [
                index,
                view.text(statement.left),
                view.text(statement.right),
                figures.n,
                _csv_number(view, figures.mean),
                _csv_number(view, figures.median),
                _csv_number(view, figures.sd),
                *figures.histogram,
                figures.unknown,
                figures.round,
                t(f"report.{figures.kind}"),
                t(f"insight.{classify(figures.histogram)}"),
            ]
        )
    writer.writerow([])
    writer.writerow([t("report.rawScores")])
    writer.writerow([t("report.participant"), t("report.round"), "#", t("report.statement"), t("report.score")])
    pseudonyms = {p.id: f"P{number}" for number, p in enumerate(export.participants, start=1)}
    numbers = {s.id: (i, view.text(s.left)) for i, s in enumerate(view.template.statements, start=1)}
    for score in export.scores:
        number, label = numbers.get(score.statement_id, (0, score.statement_id))
        value = t("slider.unknown") if score.value == "unknown" else score.value
        writer.writerow([pseudonyms.get(score.participant_id, "P?"), score.round, number, label, value])
    if export.group_figures:
        writer.writerow([])
        writer.writerow([t("report.groups")])
        writer.writerow([t("report.group"), "#", t("report.n"), t("report.mean"), t("report.median"), t("report.sd")])
        for group in export.group_figures:
            for figures in group.aggregates:
                number = numbered[figures.statement_id][0]
                median, sd = _csv_number(view, figures.median), _csv_number(view, figures.sd)
                writer.writerow([group.name, number, figures.n, _csv_number(view, figures.mean), median, sd])
    if hidden := _hidden_groups_note(view):
        writer.writerow([hidden])
    return out.getvalue().encode("utf-8")


# A spreadsheet runs a cell that begins with one of these as a formula (OWASP, "CSV
# injection"): =HYPERLINK(…) in a statement's pole would be a link the facilitator clicks.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


def _inert(cell: object) -> object:
    """A text cell a spreadsheet would run, behind a quote that makes it text (numbers,
    negative ones too, stay numbers)."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


class _InertCells:
    """A csv writer whose every cell goes through `_inert`."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([_inert(cell) for cell in row])


def _csv_number(view: _View, value: float | None) -> str:
    return "" if value is None else view.number(value, 2)


# ------------------------------------------------------------ Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def _md(text: str) -> str:
    """User text as literal Markdown: special characters escaped, lines kept together."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def sparkline(histogram: list[int]) -> str:
    peak = max(histogram) or 1
    return "".join(" " if count == 0 else SPARKS[round(count / peak * (len(SPARKS) - 1))] for count in histogram)


def render_markdown(export: BoardExport) -> bytes:
    view = _View(export)
    t = view.t
    lines = [
        f"# {_md(export.room.title)}",
        "",
        f"{t('report.heading')} · {t('report.exported', date=view.date(export.exported_at))} · "
        f"{view.participants_line()}",
        "",
        f"## {_md(view.text(view.template.grading.title))}",
        "",
        f"1 = {_md(view.text(view.template.grading.left_label))}, "
        f"10 = {_md(view.text(view.template.grading.right_label))}",
        "",
        f"| # | {t('report.left')} | {t('report.right')} | {t('report.n')} | {t('report.mean')} "
        f"| {t('report.median')} | {t('report.sd')} | {t('report.distribution')} |",
        "|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for index, statement in enumerate(view.template.statements, start=1):
        f = view.figures(statement.id)
        histogram = f.histogram if f else [0] * 10
        lines.append(
            f"| {index} | {_md(view.text(statement.left))} | {_md(view.text(statement.right))} "
            f"| {f.n if f else 0} | {view.number(f.mean if f else None)} | {view.number(f.median if f else None)} "
            f"| {view.number(f.sd if f else None)} | `{sparkline(histogram)}`{view.unknown_note(f)}"
            f"{view.insight_note(f)} |"
        )
    lines += ["", f"**{t('report.overall')}: {view.number(export.overall)}**", ""]
    lines += _md_rounds(view)
    lines += _md_desired(view)
    lines += _md_groups(view)
    if view.template.questions:
        title = view.text(view.template.reflection_title) or t("phase.reflect")
        lines += [f"## {_md(title)}", ""]
        lines += [f"{i}. {_md(view.text(q.text))}" for i, q in enumerate(view.template.questions, start=1)]
        lines.append("")
    for area in (a for a in view.template.areas if a.kind == "area"):
        lines += [f"## {_md(view.text(area.title))}", ""]
        lines += _md_notes(view, area.id, checkbox=False)
    columns = [a for a in view.template.areas if a.kind == "column"]
    if columns:
        lines += [f"## {t('report.actions')}", ""]
        for area in columns:
            prompt = f"{_md(view.text(area.prompt))} – " if area.prompt else ""
            lines += [f"### {prompt}{_md(view.text(area.title))}", ""]
            lines += _md_notes(view, area.id, checkbox=True)
    if view.template.credit:
        lines += ["---", "", f"*{t('credit.label')}: {_md(view.text(view.template.credit))}*", ""]
    return "\n".join(lines).encode()


def _round_means(view: _View) -> list[tuple[int, str, list[float | None]]]:
    """Per statement, its mean in each round (only when the room had more than one)."""
    rounds = sorted({a.round for a in view.export.aggregates})
    if len(rounds) < 2:
        return []
    means = {(a.round, a.statement_id): a.mean for a in view.export.aggregates}
    return [
        (index, view.text(statement.left), [means.get((r, statement.id)) for r in rounds])
        for index, statement in enumerate(view.template.statements, start=1)
    ]


def _md_rounds(view: _View) -> list[str]:
    rows = _round_means(view)
    if not rows:
        return []
    rounds = sorted({a.round for a in view.export.aggregates})
    t = view.t
    header = " | ".join(f"{t('report.round')} {r}" for r in rounds)
    lines = [
        f"### {t('report.rounds')}",
        "",
        f"| # | {t('report.left')} | {header} |",
        "|---:|---|" + "---:|" * len(rounds),
    ]
    for index, label, means in rows:
        cells = " | ".join(view.number(mean) for mean in means)
        lines.append(f"| {index} | {_md(label)} | {cells} |")
    return [*lines, ""]


def _group_means(view: _View) -> list[tuple[int, str, list[float | None]]]:
    """Per statement, its mean in each group shown (groups of at least k voters only)."""
    groups = view.export.group_figures
    if not groups:
        return []
    means = {(g.group_id, a.statement_id): a.mean for g in groups for a in g.aggregates}
    return [
        (index, view.text(statement.left), [means.get((g.group_id, statement.id)) for g in groups])
        for index, statement in enumerate(view.template.statements, start=1)
    ]


def _desired_rows(view: _View) -> list[tuple[int, str, float | None, float | None, float | None]]:
    """Per statement: today's mean, the desired mean and the gap, largest gap first."""
    if not view.export.room.desired_enabled:
        return []
    current = view.export.room.round
    means = {(a.kind, a.statement_id): a.mean for a in view.export.aggregates if a.round == current}
    rows = []
    for index, statement in enumerate(view.template.statements, start=1):
        today, desired = means.get(("today", statement.id)), means.get(("desired", statement.id))
        gap = desired - today if today is not None and desired is not None else None
        rows.append((index, view.text(statement.left), today, desired, gap))
    return sorted(rows, key=lambda row: -abs(row[4]) if row[4] is not None else 0)


def _md_desired(view: _View) -> list[str]:
    rows = _desired_rows(view)
    if not rows:
        return []
    t = view.t
    lines = [f"### {t('report.desiredHeading')}", ""]
    lines.append(f"| # | {t('report.left')} | {t('report.today')} | {t('report.desired')} | {t('report.gap')} |")
    lines.append("|---:|---|---:|---:|---:|")
    for index, label, today, desired, gap in rows:
        lines.append(f"| {index} | {_md(label)} | {view.number(today)} | {view.number(desired)} | {view.number(gap)} |")
    return [*lines, ""]


def _hidden_groups_note(view: _View) -> str:
    export = view.export
    if not export.hidden_groups:
        return ""
    return view.t("report.hiddenGroups", n=export.hidden_groups, k=export.room.group_min_size)


def _md_groups(view: _View) -> list[str]:
    rows = _group_means(view)
    note = _hidden_groups_note(view)
    if not rows:
        return [f"*{note}*", ""] if note else []
    t = view.t
    header = " | ".join(f"{_md(g.name)} ({g.voters})" for g in view.export.group_figures)
    lines = [f"### {t('report.groups')}", "", f"| # | {t('report.left')} | {header} |"]
    lines.append("|---:|---|" + "---:|" * len(view.export.group_figures))
    for index, label, means in rows:
        lines.append(f"| {index} | {_md(label)} | {' | '.join(view.number(m) for m in means)} |")
    return [*lines, "", *([f"*{note}*", ""] if note else [])]


def _md_notes(view: _View, area_id: str, checkbox: bool) -> list[str]:
    notes = view.notes_in(area_id)
    if not notes:
        return [f"*{view.t('report.noNotes')}*", ""]
    lines = []
    for note in notes:
        extra = []
        if author := view.author(note):
            extra.append(f"— {_md(author)}")
        if note.votes:
            extra.append(f"({view.t('report.votes', n=note.votes)})")
        if linked := view.linked_note(note):
            extra.append(f"(↔ {_md(linked)})")
        bullet = "- [ ]" if checkbox else "-"
        lines.append(" ".join([bullet, _md(note.text), *extra]))
    return [*lines, ""]


# ------------------------------------------------------------ HTML

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
.track { stroke: #9aa0a6; } .label { font-size: 11px; fill: #1b1f23; }
table { border-collapse: collapse; } th, td { border: 1px solid #c9cdd2; padding: 0.2rem 0.5rem; }
ul.notes { padding-left: 1.2rem; } ul.notes li { margin-bottom: 0.3rem; }
.note-meta { color: #4f5660; font-size: 0.9em; }
.area, .column { break-inside: avoid-page; }
.credit { color: #4f5660; font-size: 0.85em; border-top: 1px solid #c9cdd2; margin-top: 2rem; padding-top: 0.5rem; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def _x(value: float) -> float:
    return 20 + (value - 1) * 36


def _histogram_svg(view: _View, label: str, figures: ExportedAggregate | None) -> str:
    histogram = figures.histogram if figures else [0] * 10
    peak = max(histogram) or 1
    parts = [
        f'<svg viewBox="0 0 364 96" role="img" aria-label="{html.escape(label)}" xmlns="http://www.w3.org/2000/svg">',
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
        parts.append(f'<path class="median" d="M{dx:.1f} 1 l5 6 l-5 6 l-5 -6 z"/>')
    parts.append("</svg>")
    return "".join(parts)


def _profile_svg(view: _View) -> str:
    statements = view.template.statements
    row = 30
    height = row * len(statements) + 10
    parts = [
        f'<svg viewBox="0 0 700 {height}" role="img" aria-label="{html.escape(view.t("profile.heading"))}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    points = []
    for index, statement in enumerate(statements):
        y = index * row + row / 2 + 5
        parts.append(f'<line class="track" x1="240" x2="460" y1="{y}" y2="{y}"/>')
        left = html.escape(_shorten(view.text(statement.left)))
        right = html.escape(_shorten(view.text(statement.right)))
        parts.append(f'<text class="label" x="232" y="{y + 4}" text-anchor="end">{index + 1}. {left}</text>')
        parts.append(f'<text class="label" x="468" y="{y + 4}">{right}</text>')
        figures = view.figures(statement.id)
        if figures and figures.mean is not None:
            points.append((240 + (figures.mean - 1) / 9 * 220, y))
    if len(points) > 1:
        joined = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline class="profile-line" points="{joined}"/>')
    parts += [f'<circle class="dot" cx="{px:.1f}" cy="{py:.1f}" r="5"/>' for px, py in points]
    parts.append("</svg>")
    return "".join(parts)


def _shorten(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_html(export: BoardExport) -> bytes:
    view = _View(export)
    t = view.t
    e = html.escape
    body = [
        f"<h1>{e(export.room.title)}</h1>",
        f'<p class="meta">{e(t("report.heading"))} · {e(t("report.exported", date=view.date(export.exported_at)))}'
        f" · {e(view.participants_line())}</p>",
        f"<h2>{e(view.text(view.template.grading.title))}</h2>",
        f"<p>1 = {e(view.text(view.template.grading.left_label))}; "
        f"10 = {e(view.text(view.template.grading.right_label))}</p>",
    ]
    for index, statement in enumerate(view.template.statements, start=1):
        figures = view.figures(statement.id)
        left, right = view.text(statement.left), view.text(statement.right)
        if figures and figures.n:
            numbers = (
                f"{e(t('report.n'))} {figures.n} · {e(t('report.mean'))} {view.number(figures.mean)} · "
                f"{e(t('report.median'))} {view.number(figures.median)} · {e(t('report.sd'))} {view.number(figures.sd)}"
            )
        else:
            numbers = e(t("report.noAnswers"))
        numbers += e(view.unknown_note(figures)) + e(view.insight_note(figures))
        body.append(
            f'<section class="statement"><div class="poles">'
            f"<span>{index}. {e(left)}</span><span>{e(right)}</span></div>"
            f"{_histogram_svg(view, f'{index}. {left} – {right}', figures)}"
            f'<p class="figures">{numbers}</p></section>'
        )
    if rows := _round_means(view):
        rounds = sorted({a.round for a in export.aggregates})
        head = "".join(f"<th>{e(t('report.round'))} {r}</th>" for r in rounds)
        body.append(f"<h2>{e(t('report.rounds'))}</h2><table><tr><th>#</th><th>{e(t('report.left'))}</th>{head}</tr>")
        for index, label, means in rows:
            cells = "".join(f"<td>{view.number(mean)}</td>" for mean in means)
            body.append(f"<tr><td>{index}</td><td>{e(label)}</td>{cells}</tr>")
        body.append("</table>")
    if desired_rows := _desired_rows(view):
        heads = (t("report.left"), t("report.today"), t("report.desired"), t("report.gap"))
        head = "".join(f"<th>{e(h)}</th>" for h in heads)
        body.append(f"<h2>{e(t('report.desiredHeading'))}</h2><table><tr><th>#</th>{head}</tr>")
        for index, label, today, desired, gap in desired_rows:
            numbers = "".join(f"<td>{view.number(v)}</td>" for v in (today, desired, gap))
            body.append(f"<tr><td>{index}</td><td>{e(label)}</td>{numbers}</tr>")
        body.append("</table>")
    if rows := _group_means(view):
        head = "".join(f"<th>{e(g.name)} ({g.voters})</th>" for g in export.group_figures)
        body.append(f"<h2>{e(t('report.groups'))}</h2><table><tr><th>#</th><th>{e(t('report.left'))}</th>{head}</tr>")
        for index, label, means in rows:
            cells = "".join(f"<td>{view.number(mean)}</td>" for mean in means)
            body.append(f"<tr><td>{index}</td><td>{e(label)}</td>{cells}</tr>")
        body.append("</table>")
    if hidden := _hidden_groups_note(view):
        body.append(f"<p><em>{e(hidden)}</em></p>")
    body += [
        f"<h2>{e(t('profile.heading'))}</h2>",
        _profile_svg(view),
        f"<p><strong>{e(t('report.overall'))}: {view.number(export.overall)}</strong></p>",
    ]
    if view.template.questions:
        body.append(f"<h2>{e(view.text(view.template.reflection_title) or t('phase.reflect'))}</h2><ol>")
        body += [f"<li>{e(view.text(q.text))}</li>" for q in view.template.questions]
        body.append("</ol>")
    for area in view.template.areas:
        kind = "column" if area.kind == "column" else "area"
        prompt = f"{e(view.text(area.prompt))} – " if area.prompt else ""
        body.append(f'<section class="{kind}"><h2>{prompt}{e(view.text(area.title))}</h2>')
        if area.hint:
            body.append(f'<p class="note-meta">{e(view.text(area.hint))}</p>')
        notes = view.notes_in(area.id)
        if not notes:
            body.append(f"<p><em>{e(t('report.noNotes'))}</em></p>")
        else:
            body.append('<ul class="notes">')
            for note in notes:
                meta = []
                if author := view.author(note):
                    meta.append(e(author))
                if note.votes:
                    meta.append(e(t("report.votes", n=note.votes)))
                if linked := view.linked_note(note):
                    meta.append("↔ " + e(linked))
                suffix = f' <span class="note-meta">({" · ".join(meta)})</span>' if meta else ""
                body.append(f"<li>{e(note.text)}{suffix}</li>")
            body.append("</ul>")
        body.append("</section>")
    if view.template.credit:
        body.append(f'<p class="credit">{e(t("credit.label"))}: {e(view.text(view.template.credit))}</p>')
    document = (
        f'<!doctype html><html lang="{view.language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(export.room.title)} – Samskapa</title><style>{REPORT_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    return document.encode()


RENDERERS = {
    "json": (render_json, "application/json"),
    "csv": (render_csv, "text/csv; charset=utf-8"),
    "md": (render_markdown, "text/markdown; charset=utf-8"),
    "html": (render_html, "text/html; charset=utf-8"),
}
