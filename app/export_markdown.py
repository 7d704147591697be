"""The report as Markdown, to paste into a wiki or a mail: the tables of app/report.py, the
questions, the notes, and the action columns as a checklist. User text is escaped, so a
note cannot break the layout. Pure.
"""

from __future__ import annotations

import re

from app.report import Mean, Report, RoundCells
from app.snapshot import BoardExport, ExportedAggregate

SPARKS = "▁▂▃▄▅▆▇█"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def md(text: str) -> str:
    """User text as literal Markdown: special characters escaped, lines kept together."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def sparkline(histogram: list[int]) -> str:
    peak = max(histogram) or 1
    return "".join(" " if count == 0 else SPARKS[round(count / peak * (len(SPARKS) - 1))] for count in histogram)


def render_markdown(export: BoardExport) -> bytes:
    report = Report(export)
    t = report.t
    lines = [
        f"# {md(export.room.title)}",
        "",
        md(report.meta_line()),
        "",
        f"## {md(report.text(report.template.grading.title))}",
        "",
        f"1 = {md(report.text(report.template.grading.left_label))}, "
        f"10 = {md(report.text(report.template.grading.right_label))}",
        "",
        f"| # | {t('report.left')} | {t('report.right')} | {t('report.n')} | {t('report.mean')} "
        f"| {t('report.median')} | {t('report.sd')} | {t('report.distribution')} |",
        "|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for line in report.statements:
        cells = _figures_cells(report, report.figures(line.statement.id))
        lines.append(f"| {line.number} | {md(line.left)} | {md(line.right)} | {cells} |")
    lines += ["", f"**{t('report.overall')}: {report.number(export.overall)}**", ""]
    lines += _rounds(report)
    lines += _desired(report)
    lines += _groups(report)
    if report.has_withheld():
        lines += [f"*{md(report.withheld_note())}*", ""]
    if report.template.questions:
        title = report.text(report.template.reflection_title) or t("phase.reflect")
        lines += [f"## {md(title)}", ""]
        lines += [f"{i}. {md(report.text(q.text))}" for i, q in enumerate(report.template.questions, start=1)]
        lines.append("")
    for area in (a for a in report.template.areas if a.kind == "area"):
        lines += [f"## {md(report.text(area.title))}", ""]
        lines += _notes(report, area.id, checkbox=False)
    columns = [a for a in report.template.areas if a.kind == "column"]
    if columns:
        lines += [f"## {t('report.actions')}", ""]
        for area in columns:
            prompt = f"{md(report.text(area.prompt))} – " if area.prompt else ""
            lines += [f"### {prompt}{md(report.text(area.title))}", ""]
            lines += _notes(report, area.id, checkbox=True)
    if report.template.credit:
        lines += ["---", "", f"*{t('credit.label')}: {md(report.text(report.template.credit))}*", ""]
    return "\n".join(lines).encode()


def _figures_cells(report: Report, figures: ExportedAggregate | None) -> str:
    """n | mean | median | sd | distribution, for one statement this round."""
    if figures is None:
        return "0 | – | – | – | "
    if figures.withheld is not None:
        return f"{figures.withheld} | * | * | * | "
    number = report.number
    return (
        f"{figures.n} | {number(figures.mean)} | {number(figures.median)} | {number(figures.sd)} "
        f"| `{sparkline(figures.histogram)}`{report.unknown_note(figures)}{report.insight_note(figures)}"
    )


def round_headers(report: Report, round_number: int) -> list[str]:
    t = report.t
    if not report.asks_desired:
        return [f"{t('report.round')} {round_number}"]
    return [f"{t('report.round')} {round_number}: {t(f'report.{kind}')}" for kind in ("today", "desired", "gap")]


def round_values(cells: RoundCells) -> list[Mean | None]:
    return [cells.today] if cells.desired is None else [cells.today, cells.desired, cells.gap]


def _rounds(report: Report) -> list[str]:
    rows = report.rounds_table()
    if not rows:
        return []
    headers = [header for r in report.rounds for header in round_headers(report, r)]
    lines = [
        f"### {report.t('report.rounds')}",
        "",
        f"| # | {report.t('report.left')} | {' | '.join(headers)} |",
        "|---:|---|" + "---:|" * len(headers),
    ]
    for line, cells in rows:
        values = [report.cell(value) for r in cells for value in round_values(r)]
        lines.append(f"| {line.number} | {md(line.left)} | {' | '.join(values)} |")
    return [*lines, ""]


def _desired(report: Report) -> list[str]:
    rows = report.desired_table()
    if not rows:
        return []
    t = report.t
    lines = [f"### {t('report.desiredHeading')}", ""]
    lines.append(f"| # | {t('report.left')} | {t('report.today')} | {t('report.desired')} | {t('report.gap')} |")
    lines.append("|---:|---|---:|---:|---:|")
    for line, cells in rows:
        values = " | ".join(report.cell(value) for value in round_values(cells))
        lines.append(f"| {line.number} | {md(line.left)} | {values} |")
    return [*lines, ""]


def _groups(report: Report) -> list[str]:
    rows = report.groups_table()
    note = report.hidden_groups_note()
    if not rows:
        return [f"*{md(note)}*", ""] if note else []
    t = report.t
    groups = report.export.group_figures
    header = " | ".join(f"{md(g.name)} ({g.voters})" for g in groups)
    lines = [f"### {t('report.groups')}", "", f"| # | {t('report.left')} | {header} |"]
    lines.append("|---:|---|" + "---:|" * len(groups))
    for line, means in rows:
        lines.append(f"| {line.number} | {md(line.left)} | {' | '.join(report.cell(m) for m in means)} |")
    return [*lines, "", *([f"*{md(note)}*", ""] if note else [])]


def _notes(report: Report, area_id: str, checkbox: bool) -> list[str]:
    notes = report.notes_in(area_id)
    if not notes:
        return [f"*{report.t('report.noNotes')}*", ""]
    lines = []
    for note in notes:
        extra = []
        if note.author_name:
            extra.append(f"— {md(note.author_name)}")
        if note.votes:
            extra.append(f"({report.t('report.votes', n=note.votes)})")
        if linked := report.linked_note(note):
            extra.append(f"(↔ {md(linked)})")
        bullet = "- [ ]" if checkbox else "-"
        lines.append(" ".join([bullet, md(note.text), *extra]))
    return [*lines, ""]
