"""The take-home report's contents, once, for every format (CSV, Markdown, HTML).

Every figure a report shows is looked up here, by round, kind and statement, in the
export's own figures (which app/figures.py disclosed), and every table is built here as
plain rows; the renderers (app/export_*.py) only lay them out. Texts come in the room's
language (app/locales.py). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app import protocol as p
from app.locales import Translate, translator
from app.snapshot import BoardExport, ExportedAggregate, ExportedGroup, ExportedNote
from app.templates.model import Language, Statement


@dataclass(frozen=True)
class Mean:
    """One number of a table: a mean or a gap; None when there is nothing to show, with
    `withheld` when the k rule holds figures back."""

    value: float | None
    withheld: bool = False


@dataclass(frozen=True)
class RoundCells:
    round: int
    today: Mean
    desired: Mean | None  # None: the room does not ask where we want to be
    gap: Mean | None


@dataclass(frozen=True)
class StatementLine:
    number: int
    statement: Statement
    left: str
    right: str


class Report:
    def __init__(self, export: BoardExport) -> None:
        self.export = export
        self.language: Language = export.room.language
        self.t: Translate = translator(self.language)
        self.template = export.template
        self.current = export.room.round
        self._room = {(a.round, a.kind, a.statement_id): a for a in export.aggregates}
        self._groups = {
            (group.group_id, a.round, a.kind, a.statement_id): a
            for group in export.group_figures
            for a in group.aggregates
        }
        self.statements = [
            StatementLine(number, statement, self.text(statement.left), self.text(statement.right))
            for number, statement in enumerate(self.template.statements, start=1)
        ]
        self.rounds = sorted({a.round for a in export.aggregates} | {self.current})
        self.asks_desired = export.room.desired_enabled or any(a.kind == "desired" and a.n for a in export.aggregates)

    # ------------------------------------------------------------ words and numbers

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

    def cell(self, mean: Mean | None) -> str:
        """A table's number as written: the value, a dash for none, "*" where held back."""
        if mean is None or (mean.value is None and not mean.withheld):
            return "–"
        return "*" if mean.withheld else self.number(mean.value)

    def date(self, moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d")

    def meta_line(self) -> str:
        case = self.export.room.case_number
        people = self.t("report.participants", n=self.export.participants)
        graded = self.t("report.graded", n=self.export.voters)
        parts = [
            f"{self.t('report.caseNumber')} {case}" if case else "",
            self.t("report.heading"),
            self.t("report.exported", date=self.date(self.export.exported_at)),
            f"{people}, {graded}",
        ]
        return " · ".join(part for part in parts if part)

    def withheld_note(self) -> str:
        """The footnote for "*", in every report that has one."""
        return self.t("report.withheldNote", k=self.export.room.group_min_size)

    # ------------------------------------------------------------ figures

    def figures(
        self, statement_id: str, round_number: int | None = None, kind: p.ScoreKind = "today"
    ) -> ExportedAggregate | None:
        """The whole room's figures of a statement (this round, today, unless asked)."""
        return self._room.get((round_number or self.current, kind, statement_id))

    def group_figures(self, group: ExportedGroup, statement_id: str) -> ExportedAggregate | None:
        return self._groups.get((group.group_id, self.current, "today", statement_id))

    def mean(self, figures: ExportedAggregate | None) -> Mean:
        if figures is None:
            return Mean(None)
        return Mean(figures.mean, withheld=figures.withheld is not None)

    def round_cells(self, statement_id: str, round_number: int) -> RoundCells:
        """A statement in one round: today's mean, and where asked the desired mean and the
        gap (desired minus today; none unless both are shown)."""
        today = self.mean(self.figures(statement_id, round_number, "today"))
        if not self.asks_desired:
            return RoundCells(round_number, today, None, None)
        desired = self.mean(self.figures(statement_id, round_number, "desired"))
        if today.value is not None and desired.value is not None:
            gap = Mean(desired.value - today.value)
        else:
            gap = Mean(None, withheld=today.withheld or desired.withheld)
        return RoundCells(round_number, today, desired, gap)

    def rounds_table(self) -> list[tuple[StatementLine, list[RoundCells]]]:
        """Per statement, every round (only when the room had more than one)."""
        if len(self.rounds) < 2:
            return []
        return [(line, [self.round_cells(line.statement.id, r) for r in self.rounds]) for line in self.statements]

    def desired_table(self) -> list[tuple[StatementLine, RoundCells]]:
        """This round's today, desired and gap per statement, the largest gap first."""
        if not self.asks_desired:
            return []
        rows = [(line, self.round_cells(line.statement.id, self.current)) for line in self.statements]
        return sorted(
            rows, key=lambda row: -abs(row[1].gap.value) if row[1].gap and row[1].gap.value is not None else 0
        )

    def groups_table(self) -> list[tuple[StatementLine, list[Mean]]]:
        """This round's means per statement in each group with anything shown."""
        groups = self.export.group_figures
        if not groups:
            return []
        return [
            (line, [self.mean(self.group_figures(group, line.statement.id)) for group in groups])
            for line in self.statements
        ]

    def has_withheld(self) -> bool:
        tables = [cell for _, cells in self.rounds_table() for r in cells for cell in (r.today, r.desired, r.gap)]
        tables += [row.today for _, row in self.desired_table()]
        tables += [cell for _, cells in self.groups_table() for cell in cells]
        current = [self.mean(self.figures(line.statement.id)) for line in self.statements]
        return any(cell is not None and cell.withheld for cell in tables + current)

    def hidden_groups_note(self) -> str:
        if not self.export.hidden_groups:
            return ""
        return self.t("report.hiddenGroups", n=self.export.hidden_groups, k=self.export.room.group_min_size)

    def insight_note(self, figures: ExportedAggregate | None) -> str:
        if not figures or not figures.n or figures.insight is None:
            return ""
        return " · " + self.t(f"insight.{figures.insight}")

    def unknown_note(self, figures: ExportedAggregate | None) -> str:
        """ " · 1 vet ej", after the figures: a separator of its own, or the standard
        deviation and the count read as one ("0,9 1 vet ej")."""
        if not figures or not figures.unknown:
            return ""
        return " · " + self.t("stats.unknown", n=figures.unknown)

    # ------------------------------------------------------------ notes

    def notes_in(self, area_id: str) -> list[ExportedNote]:
        return sorted((n for n in self.export.notes if n.area_id == area_id), key=lambda n: n.order)

    def linked_note(self, note: ExportedNote) -> str:
        if not note.statement_id:
            return ""
        numbers = {line.statement.id: line.number for line in self.statements}
        return self.t("report.linked", n=numbers.get(note.statement_id, "?"))
