"""The report as Markdown, to paste into a wiki or a mail: the tables of app/report.py, the
questions, the notes, and the action columns as a checklist. User text is escaped where it
would be read as markup, and only there (md), so a note cannot break the layout and the file
reads as plain text too. Pure.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Literal

from app.report import Mean, Report, RoundCells
from app.snapshot import BoardExport, ExportedAggregate

SPARKS = "▁▂▃▄▅▆▇█"

Where = Literal["inline", "block", "heading"]
# What opens a block where a line (or a list item's content) begins: a heading, a quote, a
# list item or a thematic break (CommonMark 4.1-4.2, 5.1-5.3).
_BLOCK_START = re.compile(r"#{1,6}(?:\s|$)|>|[-+*](?:\s|$)|\d{1,9}[.)](?:\s|$)|(?:-\s*){3,}$")
# An entity or character reference, which Markdown turns into its character.
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


def md(text: str, where: Where = "inline") -> str:
    """User text as literal Markdown (CommonMark with GitHub's tables, strikethrough and task
    lists), on one line. Only what Markdown would read as markup where the text stands is
    escaped, so that "2026-12-07" or "(silos)" reads the same in the file as rendered: a
    report pasted into Word is the file's text. `where` is "inline" (a table cell, after a
    marker, between our own emphasis), "block" (where a block can begin: the start of a line
    or of a list item's content) or "heading" (after "#", where trailing "#"s would close it).
    """
    text = " ".join(text.split())
    escape = [False] * len(text)
    brackets = "[" in text and "]" in text[text.index("[") :]
    for index, char in enumerate(text):
        after = text[index + 1 : index + 2]
        if char in "`|" or (brackets and char in "[]"):
            escape[index] = True  # a code span, a table's cell, a link or a task's box
        elif char == "\\":
            escape[index] = after in _ASCII_PUNCTUATION or not after  # an escape, or a line break
        elif char == "<":
            escape[index] = after.isascii() and (after.isalpha() or after in "/!?")  # HTML, an autolink
        elif char == "&":
            escape[index] = bool(_ENTITY.match(text, index))
    for match in re.finditer(r"\*+|_+|~+", text):
        if _may_delimit(text, match.start(), match.end()):
            escape[match.start() : match.end()] = [True] * (match.end() - match.start())
    if where == "block" and _BLOCK_START.match(text):
        # \# \> \- \+ \*, and an ordered item's number as written, its mark escaped: 1\.
        number = re.match(r"\d+([.)])", text)
        escape[number.start(1) if number else 0] = True
    if where == "heading" and (closing := re.search(r"(?:^|\s)(#+)$", text)):
        escape[closing.start(1)] = True
    return "".join("\\" + char if escaped else char for char, escaped in zip(text, escape, strict=True))


def _may_delimit(text: str, start: int, end: int) -> bool:
    """Whether a run of * _ or ~ may open or close emphasis or strikethrough (CommonMark 6.2's
    flanking rules, with punctuation as either version of the spec counts it). A run at an
    end of the text is escaped whatever follows: our own "*" may stand beside it."""
    if start == 0 or end == len(text):
        return True
    before, after = text[start - 1], text[end]
    for punctuation in (_is_punctuation, _is_punctuation_or_symbol):
        left = not after.isspace() and (not punctuation(after) or before.isspace() or punctuation(before))
        right = not before.isspace() and (not punctuation(before) or after.isspace() or punctuation(after))
        if text[start] != "_" and (left or right):
            return True
        if text[start] == "_" and (
            (left and (not right or punctuation(before))) or (right and (not left or punctuation(after)))
        ):
            return True
    return False


def _is_punctuation(char: str) -> bool:
    return char in _ASCII_PUNCTUATION or unicodedata.category(char).startswith("P")


def _is_punctuation_or_symbol(char: str) -> bool:
    return _is_punctuation(char) or unicodedata.category(char).startswith("S")


def sparkline(histogram: list[int]) -> str:
    peak = max(histogram) or 1
    return "".join(" " if count == 0 else SPARKS[round(count / peak * (len(SPARKS) - 1))] for count in histogram)


def render_markdown(export: BoardExport) -> bytes:
    report = Report(export)
    t = report.t
    lines = [
        f"# {md(export.room.title, 'heading')}",
        "",
        md(report.meta_line(), "block"),
        "",
        f"## {md(report.text(report.template.grading.title), 'heading')}",
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
        lines += [f"## {md(title, 'heading')}", ""]
        lines += [f"{i}. {md(report.text(q.text), 'block')}" for i, q in enumerate(report.template.questions, start=1)]
        lines.append("")
    for area in (a for a in report.template.areas if a.kind == "area"):
        lines += [f"## {md(report.text(area.title), 'heading')}", ""]
        lines += _notes(report, area.id, checkbox=False)
    columns = [a for a in report.template.areas if a.kind == "column"]
    if columns:
        lines += [f"## {t('report.actions')}", ""]
        for area in columns:
            prompt = f"{md(report.text(area.prompt))} – " if area.prompt else ""
            lines += [f"### {prompt}{md(report.text(area.title), 'heading')}", ""]
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
        # A task's text follows its box; a plain item's begins the item, where "1." or "-" would nest a list.
        item = f"- [ ] {md(note.text)}" if checkbox else f"- {md(note.text, 'block')}"
        lines.append(" ".join([item, *extra]))
    return [*lines, ""]
