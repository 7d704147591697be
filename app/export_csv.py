"""The numbers for a spreadsheet: a CSV with one section per table, each with its own header.

UTF-8 with a BOM, for Excel; in a Swedish or Finnish room `;` between fields and a decimal
comma (what Excel and LibreOffice expect there), in an English one `,` and `.`. Sections:
the room's figures per round, kind and statement; the groups' figures. No answer-level
data: beside the groups' figures it would let a reader work out who was in which group
(docs/export.md). Pure.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from app.report import Report
from app.snapshot import BoardExport, ExportedAggregate

CSV_STYLE: dict[str, tuple[str, str]] = {"sv": (";", ","), "fi": (";", ","), "en": (",", ".")}


def render_csv(export: BoardExport) -> bytes:
    report = Report(export)
    t = report.t
    delimiter, _ = CSV_STYLE[report.language]
    out = io.StringIO()
    out.write("\ufeff")
    writer = _InertCells(csv.writer(out, delimiter=delimiter, lineterminator="\r\n"))
    if export.room.case_number:
        writer.writerows([[t("report.caseNumber"), export.room.case_number], []])
    numbered = {line.statement.id: line for line in report.statements}

    writer.writerow([t("report.figuresSection")])
    writer.writerow(
        [
            "#",
            t("report.left"),
            t("report.right"),
            t("report.round"),
            t("report.kind"),
            *_figure_headers(report),
        ]
    )
    for figures in sorted(
        export.aggregates, key=lambda a: (a.round, a.kind != "today", numbered[a.statement_id].number)
    ):
        line = numbered[figures.statement_id]
        writer.writerow(
            [line.number, line.left, line.right, figures.round, t(f"report.{figures.kind}"), *_figures(report, figures)]
        )

    if export.group_figures or export.hidden_groups:
        writer.writerow([])
        writer.writerow([t("report.groups")])
        writer.writerow(
            [
                t("report.group"),
                t("report.round"),
                t("report.kind"),
                "#",
                *_figure_headers(report),
            ]
        )
        for group in export.group_figures:
            for figures in group.aggregates:
                line = numbered[figures.statement_id]
                row = [group.name, figures.round, t(f"report.{figures.kind}"), line.number]
                writer.writerow([*row, *_figures(report, figures)])
        if hidden := report.hidden_groups_note():
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

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def _figure_headers(report: Report) -> list[str]:
    """The names of the columns `_figures` fills, in the same order."""
    t = report.t
    counts = [t("report.count", value=value) for value in range(1, 11)]
    named = ["report.n", "report.mean", "report.median", "report.sd"]
    return [*(t(key) for key in named), *counts, t("slider.unknown"), t("report.withheld"), t("report.insight")]


def _figures(report: Report, figures: ExportedAggregate) -> list[object]:
    """n, mean, median, sd, the ten counts, don't know, held back, insight: a held-back
    distribution has only its number of answers, in the held-back column."""
    if figures.withheld is not None:
        return ["", "", "", "", *[""] * 10, "", figures.withheld, report.t("insight.too_few")]
    return [
        figures.n,
        _number(report, figures.mean),
        _number(report, figures.median),
        _number(report, figures.sd),
        *figures.histogram,
        figures.unknown,
        "",
        report.t(f"insight.{figures.insight}") if figures.insight else "",
    ]


def _number(report: Report, value: float | None) -> str:
    return "" if value is None else report.number(value, 2)
