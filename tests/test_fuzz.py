"""A protocol fuzzer over the real server, on SQLite and PostgreSQL (issue 17).

Hypothesis draws what two hostile clients send (a participant and a facilitator): commands
with plausible and absurd fields (control characters, unpaired surrogates, invisible text,
huge numbers, wrong types, extra fields), raw garbage, binary frames and nesting bombs,
while three honest clients work in the same room. Then:

- the hostile sockets were closed only with documented close codes (or not at all), and
  every error they got carries a documented code;
- the honest clients were never closed, and each of their commands was acknowledged or
  refused with a documented code;
- each honest client's view (notes, settings, participants, the spectrum) equals a fresh
  snapshot of the room taken afterwards;
- the server logged no exception.

A second fuzzer does the same for the HTTP API (mutated imports, templates and bodies, odd
paths): never a 5xx. Bounded to seconds in CI; SAMSKAPA_FUZZ_EXAMPLES and
SAMSKAPA_FUZZ_HTTP_EXAMPLES run it longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import secrets
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app import protocol as p
from app.client import CommandFailed, Message, RoomClient
from app.templates import builtin_templates
from tests.servers import ServerProcess
from tests.test_protocol_doc import CLIENT_TYPES

EXAMPLES = int(os.environ.get("SAMSKAPA_FUZZ_EXAMPLES", "10"))
HTTP_EXAMPLES = int(os.environ.get("SAMSKAPA_FUZZ_HTTP_EXAMPLES", "40"))
TIMEOUT = 15.0
# Fewer than the burst of the rate limit (60), with the hello and the final ping.
MAX_FRAMES = 40
DOCUMENTED_CLOSES = {int(code) for code in p.CloseCode} | {1000}
ERROR_CODES = {code.value for code in p.ErrorCode}
TEMPLATE = builtin_templates()["tjanstelogik"]
AREAS = TEMPLATE.area_ids()
STATEMENTS = TEMPLATE.statement_ids()
# No shrinking: over a live server it takes minutes; the failing draws are printed as drawn.
FUZZ = settings(
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def fuzz_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path_factory.mktemp("fuzz"))
    process.start()
    yield process
    process.stop()


# ---------------------------------------------------------------- what hostile clients send

sendable_char = st.one_of(
    st.characters(codec="utf-8"),
    st.integers(0, 0x1F).map(chr),
    st.sampled_from(list("\u200b\u200c\u200d\u2060\ufeff\u00ad\u0301\u3164 \n\t")),
)
# In JSON strings also unpaired surrogates, which json.dumps writes as \udxxx escapes (a raw
# frame cannot hold one: it is UTF-8).
nasty_char = st.one_of(sendable_char, st.integers(0xD800, 0xDFFF).map(chr))
nasty_text = st.one_of(
    st.text(nasty_char, max_size=30),
    st.sampled_from(["", " ", "\u200b", "\x00", "\udfff", "=HYPERLINK(1)", "s1", "now", "x" * 501, "å" * 121]),
)
leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_value = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3), max_leaves=6
)


def plausible(name: str, note_ids: list[str]) -> st.SearchStrategy[Any]:
    """Values a real client might send for the field `name`: mostly in range, some not."""
    groups = st.fixed_dictionaries({"id": st.sampled_from(["a", "b", "c", "Bad Id"]), "name": nasty_text})
    by_name: dict[str, st.SearchStrategy[Any]] = {
        "statement_id": st.sampled_from([*STATEMENTS, "s99"]),
        "area_id": st.sampled_from([*AREAS, "nowhere"]),
        "note_id": st.sampled_from([*note_ids, "n_missing"]),
        "value": st.one_of(st.integers(0, 11), st.just("unknown"), st.none()),
        "kind": st.sampled_from(["today", "desired", "tomorrow"]),
        "text": nasty_text,
        "name": nasty_text,
        "title": nasty_text,
        "color": st.sampled_from(["yellow", "pink", "blue", "green", "orange", "purple", "red"]),
        "index": st.integers(-1, 20),
        "phase": st.sampled_from(["lobby", "grade", "reflect", "document", "closed", "party"]),
        "seconds": st.one_of(st.none(), st.integers(-1, 90_000)),
        "groups": st.lists(groups, max_size=13),
        "group": st.one_of(st.none(), st.sampled_from(["a", "b", "zz"])),
        "language": st.sampled_from(["sv", "en", "fi", "de"]),
        "group_min_size": st.integers(0, 60),
        "base_version": st.one_of(st.none(), st.integers(-1, 5)),
        "token": st.one_of(st.none(), nasty_text),
        "last_seq": st.integers(-1, 10**12),
    }
    likely = by_name.get(name, st.booleans())
    return st.one_of(likely, likely, likely, json_value)


@st.composite
def frames(draw: st.DrawFn, note_ids: list[str], types: list[str]) -> str | bytes:
    """One frame: usually a command of one of `types`, sometimes garbage or a bomb."""
    shape = draw(st.sampled_from(["command"] * 8 + ["raw", "binary", "bomb"]))
    if shape == "raw":
        return draw(st.one_of(st.text(sendable_char, max_size=60), st.just('{"type": "ping", "cid": "\\udfff"}')))
    if shape == "binary":
        return draw(st.binary(max_size=40))
    if shape == "bomb":
        depth = draw(st.integers(150, 4000))
        return "[" * depth + ("]" * depth if draw(st.booleans()) else "")
    kind = draw(st.sampled_from([*types, "ping", "hello", "bogus"]))
    message: dict[str, Any] = {"type": kind}
    cid = st.one_of(st.text("abcdef0123456789-", min_size=1, max_size=12), json_value)
    message["cid"] = draw(cid)
    model = CLIENT_TYPES.get(kind)
    for name in model.model_fields if model else ():
        if name not in {"type", "cid"} and draw(st.integers(0, 9)) < 8:
            message[name] = draw(plausible(name, note_ids))
    if draw(st.integers(0, 14)) == 0:
        message[draw(nasty_text)] = draw(json_value)
    return json.dumps(message)


PARTICIPANT_TYPES = sorted(set(CLIENT_TYPES) - p.FACILITATOR_COMMANDS - {"hello", "ping"})
FACILITATOR_TYPES = sorted(p.FACILITATOR_COMMANDS | {"add_note", "edit_note", "move_note", "delete_note"})


# ---------------------------------------------------------------- the clients


@dataclass
class Hostile:
    socket: ClientConnection
    received: list[Message] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    # Set on the pong to the last ping, or when the socket ends.
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def join(cls, url: str, token: str | None) -> Hostile:
        socket = await connect(url, max_size=None, open_timeout=TIMEOUT)
        hostile = cls(socket)
        await socket.send(json.dumps({"type": "hello", "token": token, "name": "Fuzz"}))
        async with asyncio.timeout(TIMEOUT):
            welcome = json.loads(await socket.recv())
        assert welcome["type"] == "welcome", welcome
        hostile.reader = asyncio.create_task(hostile._read())
        return hostile

    async def _read(self) -> None:
        try:
            async for frame in self.socket:
                message = json.loads(frame)
                self.received.append(message)
                if message.get("type") == "pong" and message.get("cid") == "fuzz-end":
                    self.done.set()
        except ConnectionClosed:
            pass
        finally:
            self.done.set()

    async def send_all(self, sent: list[str | bytes]) -> None:
        """Send every frame, then a ping, and wait for its pong: the server has handled
        every frame before it (or closed the socket)."""
        with contextlib.suppress(ConnectionClosed):
            for frame in sent:
                await self.socket.send(frame)
            await self.socket.send(json.dumps({"type": "ping", "cid": "fuzz-end"}))
        await asyncio.wait_for(self.done.wait(), TIMEOUT)

    async def close(self) -> int | None:
        """The close code if the server closed the socket first, else None."""
        code = self.socket.close_code
        await self.socket.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, TIMEOUT)
        return code


async def honestly(client: RoomClient, type_: str, **fields: Any) -> None:
    """A command a well-behaved client sends: acknowledged, or refused with a documented code."""
    try:
        await client.command(type_, timeout=TIMEOUT, **fields)
    except CommandFailed as refused:
        assert refused.code in ERROR_CODES, refused.error


async def honest_work(anna: RoomClient, bo: RoomClient, facilitator: RoomClient, note_id: str) -> None:
    for number in (1, 2, 3):
        await honestly(anna, "set_score", statement_id=f"s{number}", value=number + 4)
        await honestly(bo, "set_score", statement_id=f"s{number}", value="unknown" if number == 2 else 9)
    await honestly(anna, "add_note", area_id="now", text="Anna tänker högt")
    await honestly(bo, "vote_note", note_id=note_id, voted=True)
    await honestly(facilitator, "set_results_visible", visible=True)


def view(client: RoomClient) -> dict[str, Any]:
    settings_ = {k: v for k, v in client.settings.items() if k != "expires_at"}
    people = client.participants
    if client.role == "participant":
        # A participant's snapshot lists those with a name, and itself (docs/protocol.md); one
        # who dropped their name stays known to earlier clients, as someone without one.
        people = {i: person for i, person in people.items() if person["name"] or i == client.participant_id}
    return {"notes": client.notes, "settings": settings_, "participants": people}


def figures(spectrum: Message | None) -> Any:
    if spectrum is None:
        return None
    return {key: value for key, value in spectrum.items() if key not in {"seq", "type"}}


async def same_as_a_fresh_snapshot(server: ServerProcess, room_id: str, honest: list[RoomClient]) -> None:
    """Each honest client's view against a new connection's snapshot with the same identity."""
    for client in honest:
        fresh = RoomClient(server.base_url, room_id, client.token)
        await fresh.connect(resume=False)
        try:
            assert view(client) == view(fresh), f"{client.role}'s view drifted from the room"
            # The spectrum is coalesced (ticks of 0.1 s): the last tick catches up.
            with contextlib.suppress(TimeoutError):
                await client.wait_until(lambda: figures(client.spectrum) == figures(fresh.spectrum), 5)  # noqa: B023
            assert figures(client.spectrum) == figures(fresh.spectrum)
        finally:
            await fresh.close()


def assert_hostile_served_as_documented(hostile: Hostile, closed_with: int | None) -> None:
    assert closed_with is None or closed_with in DOCUMENTED_CLOSES, f"closed with {closed_with}"
    for message in hostile.received:
        if message["type"] == "error":
            assert message["code"] in ERROR_CODES, message


def assert_no_exception_logged(server: ServerProcess, since: int) -> None:
    log = server.log()[since:]
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


@settings(FUZZ, max_examples=EXAMPLES)
@given(data=st.data())
async def test_hostile_clients_cannot_break_the_room_for_the_honest(
    fuzz_server: ServerProcess, data: st.DataObject
) -> None:
    since = len(fuzz_server.log())
    async with httpx.AsyncClient(base_url=fuzz_server.base_url, timeout=TIMEOUT) as http:
        room = (await http.post("/api/rooms", json={"title": "Fuzzrummet"})).json()
    url = fuzz_server.base_url.replace("http://", "ws://") + f"/ws/rooms/{room['room_id']}"
    facilitator = RoomClient(fuzz_server.base_url, room["room_id"], room["facilitator_token"])
    anna = RoomClient(fuzz_server.base_url, room["room_id"])
    bo = RoomClient(fuzz_server.base_url, room["room_id"])
    hostile: list[Hostile] = []
    try:
        await facilitator.connect()
        await anna.connect(name="Anna")
        await bo.connect()
        await anna.command("add_note", area_id="thoughts", text="Annas första lapp")
        note_ids = list(anna.notes)
        hostile = [await Hostile.join(url, None), await Hostile.join(url, room["facilitator_token"])]
        participant_frames = data.draw(st.lists(frames(note_ids, PARTICIPANT_TYPES), max_size=MAX_FRAMES))
        facilitator_frames = data.draw(st.lists(frames(note_ids, FACILITATOR_TYPES), max_size=MAX_FRAMES))
        await asyncio.gather(
            hostile[0].send_all(participant_frames),
            hostile[1].send_all(facilitator_frames),
            honest_work(anna, bo, facilitator, note_ids[0]),
        )
        for one in hostile:
            assert_hostile_served_as_documented(one, await one.close())
        # A barrier: once every honest client has seen this note, it has seen all before it.
        mark = f"Slut {secrets.token_hex(4)}"
        ack = await facilitator.command("add_note", area_id="thoughts", text=mark)
        for client in (facilitator, anna, bo):
            await client.wait_for(lambda m: m["type"] == "note_added" and m["seq"] == ack["seq"], TIMEOUT)
            assert client.close_code is None, f"an honest client was closed with {client.close_code}"
        await same_as_a_fresh_snapshot(fuzz_server, room["room_id"], [facilitator, anna, bo])
    finally:
        for one in hostile:
            await one.close()
        for client in (facilitator, anna, bo):
            await client.close()
    assert_no_exception_logged(fuzz_server, since)


# ---------------------------------------------------------------- HTTP

_exports: dict[str, dict[str, Any]] = {}


async def an_export(server: ServerProcess, http: httpx.AsyncClient) -> dict[str, Any]:
    """A real room's JSON export (made once per server): notes, votes, groups, scores."""
    if server.base_url not in _exports:
        room = (await http.post("/api/rooms", json={"title": "Förlagan"})).json()
        facilitator = RoomClient(server.base_url, room["room_id"], room["facilitator_token"])
        person = RoomClient(server.base_url, room["room_id"])
        try:
            await facilitator.connect()
            await facilitator.command("set_groups", groups=[{"id": "a", "name": "A"}])
            await person.connect(name="Åsa")
            await person.command("set_profile", group="a")
            await person.command("set_score", statement_id="s1", value=4)
            await person.command("add_note", area_id="now", text="En lapp")
            note_id = next(iter(person.notes))
            await facilitator.command("vote_note", note_id=note_id, voted=True)
        finally:
            await person.close()
            await facilitator.close()
        headers = {"Authorization": f"Bearer {room['facilitator_token']}"}
        _exports[server.base_url] = (await http.get(f"/api/rooms/{room['room_id']}/export", headers=headers)).json()
    return copy.deepcopy(_exports[server.base_url])


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document, as the keys that lead there."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from places(inner, (*path, index))


def mutate(document: Any, data: st.DataObject) -> Any:
    """The document with one place replaced, removed or repeated."""
    path = data.draw(st.sampled_from(list(places(document))[1:]))
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    action = data.draw(st.sampled_from(["replace", "replace", "remove", "repeat"]))
    if action == "replace":
        target[last] = data.draw(json_value)
    elif action == "remove":
        del target[last]
    elif isinstance(target, list):
        target.append(copy.deepcopy(target[last]))
    return document


segment = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30).map(lambda s: urllib.parse.quote(s, safe="")),
    st.sampled_from(["%00", "%ED%BF%BF", "%1B", "..", "%2F", "x" * 300, "123456", "000000"]),
)


@settings(FUZZ, max_examples=HTTP_EXAMPLES)
@given(data=st.data())
async def test_no_request_gets_a_server_error(fuzz_server: ServerProcess, data: st.DataObject) -> None:
    since = len(fuzz_server.log())
    async with httpx.AsyncClient(base_url=fuzz_server.base_url, timeout=TIMEOUT) as http:
        document = await an_export(fuzz_server, http)
        kind = data.draw(st.sampled_from(["import", "import", "import", "create", "template", "paths", "body"]))
        if kind == "import":
            response = await http.post("/api/rooms/import", content=json.dumps(mutate(document, data)))
        elif kind == "create":
            body = {"title": data.draw(nasty_text), "language": data.draw(plausible("language", []))}
            if data.draw(st.booleans()):
                body["template"] = mutate(TEMPLATE.model_dump(mode="json"), data)
            response = await http.post("/api/rooms", content=json.dumps(body))
        elif kind == "template":
            body = {"title": "Mall", "template": data.draw(json_value)}
            response = await http.post("/api/rooms", content=json.dumps(body))
        elif kind == "body":
            path = data.draw(st.sampled_from(["/api/rooms", "/api/rooms/import"]))
            content = data.draw(st.one_of(st.binary(max_size=200), st.just(b"[" * 5000)))
            headers = {"content-type": data.draw(st.sampled_from(["application/json", "text/plain", "x/y"]))}
            response = await http.post(path, content=content, headers=headers)
        else:
            path = data.draw(
                st.sampled_from(
                    [
                        "/api/join/{}",
                        "/api/rooms/{}/qr.svg",
                        "/api/rooms/{}/export?format=json",
                        "/api/rooms/{}",
                        "/api/templates/{}",
                        "/r/{}",
                        "/ws/rooms/{}",
                    ]
                )
            ).format(data.draw(segment))
            method = data.draw(st.sampled_from(["GET", "DELETE", "POST"]))
            headers = {"Authorization": data.draw(st.sampled_from(["", "Bearer x", "Bearer " + "y" * 300]))}
            response = await http.request(method, path, headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        assert "code" in response.json(), response.text[:500]
    assert_no_exception_logged(fuzz_server, since)
