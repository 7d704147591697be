"""The machine-readable protocol (app/protocol_schema.py, an AsyncAPI 3.0 document) against
docs/protocol.md, against the rules of AsyncAPI and JSON Schema, and against what a live
server really sends and accepts.

tests/test_protocol_doc.py holds the doc to the models (every type, code and field named
somewhere in it); this holds the document to the doc both ways, and each message's fields to
the doc's section on that message. AsyncAPI's own JSON Schema is published only outside
PyPI, and nothing is fetched at test time nor copied in: the document is held to the
structural rules of AsyncAPI 3.0 written out below, each payload schema to the JSON Schema
meta-schemas (draft 2020-12 and draft-07, which `jsonschema` ships), and every frame of a
whole workshop on a live server to the payload schemas, in both directions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from websockets.asyncio.client import ClientConnection

from app import protocol as p
from app import protocol_schema
from app.client import CommandFailed, RoomClient
from tests.servers import ServerProcess
from tests.test_protocol_doc import (
    CLIENT_TYPES,
    SERVER_TYPES,
    doc_text,
    headings,
    json_blocks,
    section,
    typed_examples,
)

DOCUMENT = protocol_schema.document()
URI = "urn:samskapa:protocol"
REGISTRY: Registry[Any] = Registry().with_resource(URI, Resource.from_contents(DOCUMENT, DRAFT202012))
MESSAGES: dict[str, Any] = DOCUMENT["components"]["messages"]
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
# AsyncAPI 3.0: the keys of components, channels and operations.
KEY = re.compile(r"^[\w\d.\-_]+$")


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` ("#/components/…") inside the document."""
    return Draft202012Validator({"$ref": URI + pointer}, registry=REGISTRY)


def payload_of(type_name: str) -> Draft202012Validator:
    return validator(MESSAGES[type_name]["payload"]["$ref"])


CLIENT = validator("#/components/schemas/ClientMessage")
SERVER = validator("#/components/schemas/ServerMessage")


def problems(check: Draft202012Validator, frame: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in check.iter_errors(frame)]


def resolve(pointer: str) -> Any:
    node: Any = DOCUMENT
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


# ---------------------------------------------------------------- the document and the doc


def direction(action: str) -> set[str]:
    """The message types of every operation with this action, replies included for the other way."""
    names: set[str] = set()
    for operation in DOCUMENT["operations"].values():
        if operation["action"] == action:
            names.update(ref.rsplit("/", 1)[1] for ref in refs(operation["messages"]))
        elif "reply" in operation:
            names.update(ref.rsplit("/", 1)[1] for ref in refs(operation["reply"]["messages"]))
    return names


def test_the_document_has_every_message_of_the_models_in_its_direction() -> None:
    assert set(MESSAGES) == CLIENT_TYPES.keys() | SERVER_TYPES.keys()
    assert direction("receive") == set(CLIENT_TYPES), "the server receives exactly the client messages"
    assert direction("send") == set(SERVER_TYPES), "the server sends exactly the server messages"
    for name, message in MESSAGES.items():
        model = CLIENT_TYPES.get(name) or SERVER_TYPES[name]
        assert message["name"] == name and message["payload"]["$ref"] == f"#/components/schemas/{model.__name__}"


def documented_types() -> set[str]:
    """What the doc presents as a message: a "### `type`" heading, or the type of an example."""
    named = {match for heading in headings() for match in re.findall(r"^### `([a-z_]+)`$", heading)}
    return named | {example["type"] for example in typed_examples()}


def test_every_message_of_the_document_is_documented_and_every_documented_one_is_in_it() -> None:
    documented = documented_types()
    assert not set(MESSAGES) - documented, f"in the document, not in docs/protocol.md: {set(MESSAGES) - documented}"
    assert not documented - set(MESSAGES), f"in docs/protocol.md, not in the document: {documented - set(MESSAGES)}"


def code_spans(text: str) -> set[str]:
    """What `text` writes as `code` outside its fenced blocks (as test_protocol_doc reads the doc)."""
    return set(re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL)))


def message_section(type_name: str) -> str:
    """The doc's "### `type_name`" section, up to the next heading."""
    after = doc_text().split(f"\n### `{type_name}`\n", 1)[1]
    return re.split(r"^#{1,3} ", after, maxsplit=1, flags=re.MULTILINE)[0]


@pytest.mark.parametrize("type_name", sorted(MESSAGES))
def test_each_field_of_a_message_is_in_the_docs_section_on_that_message(type_name: str) -> None:
    """test_protocol_doc asks only that a field be named somewhere in the doc: `seq` or
    `round` named for one message said nothing of another. Here each field of a message's
    payload is named in that message's own section, as `code` or as a key of its examples."""
    text = message_section(type_name)
    named = code_spans(text) | set(re.findall(r'"([a-z_]+)"\s*:', "\n".join(json_blocks_in(text))))
    fields = resolve(MESSAGES[type_name]["payload"]["$ref"])["properties"]
    missing = sorted(set(fields) - named)
    assert not missing, f"the section on `{type_name}` in docs/protocol.md does not name {missing}"


def json_blocks_in(text: str) -> list[str]:
    return [block for block in json_blocks() if block in text]


def table_codes(title: str) -> list[str]:
    """The first column of the table in the doc's `## title` section."""
    return re.findall(r"^\| `([a-z_0-9]+)` \|", section(title), re.MULTILINE)


def test_the_error_codes_are_those_of_the_doc_and_of_the_model() -> None:
    assert DOCUMENT["x-error-codes"] == [code.value for code in p.ErrorCode]
    assert sorted(table_codes("Error codes")) == sorted(DOCUMENT["x-error-codes"])
    assert resolve("#/components/schemas/ErrorCode")["enum"] == DOCUMENT["x-error-codes"]


def test_the_close_codes_are_those_of_the_doc_and_of_the_model() -> None:
    listed = DOCUMENT["x-close-codes"]
    assert [(entry["code"], entry["name"]) for entry in listed] == [(int(c), c.name) for c in p.CloseCode]
    assert sorted(int(code) for code in table_codes("Close codes")) == sorted(entry["code"] for entry in listed)


def test_the_protocol_versions_are_those_the_server_speaks_and_the_doc_states() -> None:
    versions = DOCUMENT["x-protocol-versions"]
    assert versions == sorted(p.SUPPORTED_PROTOCOLS) and DOCUMENT["info"]["version"] == str(p.PROTOCOL_VERSION)
    assert len(versions) == 1, "the doc says which versions the server speaks: reword it and this test"
    assert f"The server speaks a fixed set of versions (today only `{versions[0]}`)" in doc_text()


def test_the_doc_says_where_the_document_is_and_how_it_is_held() -> None:
    text = section("A machine-readable protocol")
    for stated in ("GET /api/schema/protocol.json", "AsyncAPI 3.0", "app/protocol.py", "tests/test_protocol_schema.py"):
        assert stated in text, stated


# ---------------------------------------------------------------- the document itself


def test_the_document_keeps_the_rules_of_asyncapi_3() -> None:
    """AsyncAPI 3.0's rules that its JSON Schema checks, and two it leaves to parsers: an
    operation's messages are its channel's, and every message of a channel is used."""
    assert DOCUMENT["asyncapi"] == "3.0.0"
    assert isinstance(DOCUMENT["info"]["title"], str) and isinstance(DOCUMENT["info"]["version"], str)
    allowed = {"asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations", "components"}
    assert all(key in allowed or key.startswith("x-") for key in DOCUMENT)
    for group in (DOCUMENT["channels"], DOCUMENT["operations"], *DOCUMENT["components"].values()):
        assert all(KEY.match(key) for key in group), list(group)
    used: set[str] = set()
    for name, operation in DOCUMENT["operations"].items():
        assert operation["action"] in {"send", "receive"}, name
        channel = operation["channel"]["$ref"]
        assert re.fullmatch(r"#/channels/[\w\d.\-_]+", channel), (name, channel)
        reply = operation.get("reply", {"channel": operation["channel"], "messages": []})
        assert reply["channel"] == operation["channel"], f"{name}: a reply on another channel"
        for ref in [*refs(operation["messages"]), *refs(reply["messages"])]:
            assert ref.startswith(channel + "/messages/"), f"{name}: {ref} is not a message of {channel}"
            used.add(ref)
    for channel_name, channel in DOCUMENT["channels"].items():
        for parameter in channel.get("parameters", {}):
            assert "{" + parameter + "}" in channel["address"], parameter
        for message in channel["messages"]:
            assert f"#/channels/{channel_name}/messages/{message}" in used, f"no operation uses {message}"
    for message in MESSAGES.values():
        assert set(message) <= {"name", "title", "summary", "description", "payload", "tags"}, message


def test_every_reference_in_the_document_resolves() -> None:
    for ref in set(refs(DOCUMENT)):
        assert ref.startswith("#/"), ref
        resolve(ref)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_is_valid_json_schema_draft_2020_12_and_draft_07(name: str) -> None:
    """2020-12 is what pydantic writes; draft-07 is what AsyncAPI's default schema format
    extends, so the payloads need no `schemaFormat` (app/protocol_schema.py)."""
    Draft202012Validator.check_schema(SCHEMAS[name])
    Draft7Validator.check_schema(SCHEMAS[name])
    assert not isinstance(SCHEMAS[name].get("discriminator"), dict), "AsyncAPI's discriminator is a property name"


def test_every_example_in_the_doc_matches_the_document() -> None:
    for example in typed_examples():
        check = CLIENT if example["type"] in CLIENT_TYPES else SERVER
        assert not problems(check, example), (example, problems(check, example))
        assert not problems(payload_of(example["type"]), example)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "set_score", "cid": "c-1", "statement_id": "s1", "value": 11},
        {"type": "set_score", "cid": "c-1", "statement_id": "s1", "value": "7"},
        {"type": "set_score", "cid": "c-1", "statement_id": "s1", "value": True},
        {"type": "set_score", "statement_id": "s1", "value": 7},
        {"type": "add_note", "cid": "c-1", "area_id": "now", "text": "x", "colour": "pink"},
        {"type": "move_note", "cid": "c-1", "note_id": "n", "area_id": "now", "index": -1},
        {"type": "hello", "protocols": []},
        {"type": "hello", "protocol": 0},
        {"type": "set_groups", "cid": "c-1", "groups": [{"id": "Staff", "name": "Medarbetare"}]},
        {"type": "shout", "cid": "c-1"},
    ],
    ids=lambda frame: json.dumps(frame),
)
def test_a_frame_the_server_refuses_for_its_shape_does_not_match(frame: dict[str, Any]) -> None:
    assert problems(CLIENT, frame)


def test_a_welcome_holds_its_replayed_events_to_the_event_schema() -> None:
    """The model types them as plain objects (they are stored encoded); the document does not."""
    welcome = next(example for example in typed_examples() if example["type"] == "welcome" and example["events"])
    broken = json.loads(json.dumps(welcome))
    broken["events"][0]["note"]["votes"] = "many"
    assert not problems(SERVER, welcome) and problems(SERVER, broken)


# ---------------------------------------------------------------- a live server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("schema")
    process = ServerProcess(f"sqlite:///{data / 'schema.db'}", data)
    process.start()
    yield process
    process.stop()


async def test_the_server_serves_the_document(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.get("/api/schema/protocol.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == json.loads(json.dumps(DOCUMENT))


async def test_every_frame_of_a_workshop_on_a_live_server_matches_the_document(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A facilitator, a screen and three participants through a whole workshop: every frame
    the server sends, of every type, matches its message's schema; every frame sent to it
    matches too, and the few it refuses for their shape do not."""
    sent: list[str] = []
    send = ClientConnection.send

    async def recorded(self: ClientConnection, message: Any, *args: Any, **kwargs: Any) -> None:
        sent.append(message)
        await send(self, message, *args, **kwargs)

    monkeypatch.setattr(ClientConnection, "send", recorded)
    clients, refused = await run_workshop(server)

    received = [message for client in clients for message in client.messages]
    for frame in received:
        assert not problems(SERVER, frame), (frame, problems(SERVER, frame))
        assert not problems(payload_of(frame["type"]), frame), frame
    assert {frame["type"] for frame in received} == set(SERVER_TYPES), "a server message was never seen"

    frames = [json.loads(text) for text in sent]
    for frame in frames:
        if frame.get("cid") in refused:
            assert problems(CLIENT, frame), f"the server refused {frame}, the document accepts it"
        else:
            assert not problems(CLIENT, frame), (frame, problems(CLIENT, frame))
            assert not problems(payload_of(frame["type"]), frame), frame
    accepted = {frame["type"] for frame in frames if frame.get("cid") not in refused}
    assert accepted == set(CLIENT_TYPES), "a client message was never sent"


async def run_workshop(server: ServerProcess) -> tuple[list[RoomClient], set[str]]:
    """Every client message sent and every server message provoked; the clients, and the
    cids of the frames the server refused as invalid_message."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        room = (await http.post("/api/rooms", json={"title": "Schema"})).json()
        room_id = room["room_id"]
        made: list[RoomClient] = []

        def client(token: str | None = None, room: str = room_id) -> RoomClient:
            made.append(RoomClient(server.base_url, room, token))
            return made[-1]

        try:
            with pytest.raises(CommandFailed, match="not_found"):
                await client(room="no-such-room").connect()
            facilitator = client(room["facilitator_token"])
            welcome = await facilitator.connect()
            statements = [s["id"] for s in welcome["snapshot"]["template"]["statements"]]
            area = welcome["snapshot"]["template"]["areas"][0]["id"]
            await client().connect(screen=True)
            alice, bob, carol = client(), client(), client()
            await alice.connect(name="Alice")
            await bob.connect()
            await carol.connect(name="Carol")
            await facilitator.command("set_groups", groups=[{"id": "staff", "name": "Medarbetare"}])
            await facilitator.command("update_room", desired_enabled=True, case_number="KS 2026/1")
            await alice.command("set_profile", group="staff", name="Alice A")
            await facilitator.command("set_phase", phase="grade")
            for person, value in ((alice, 7), (bob, 3), (carol, "unknown")):
                await person.command("set_score", statement_id=statements[0], value=value)
                await person.command("set_score", statement_id=statements[0], value=9, kind="desired")
            await alice.command("set_score", statement_id=statements[1], value=None)
            added = await alice.command("add_note", area_id=area, text="Fråga brukarna", statement_id=statements[0])
            note = (await alice.wait_for(lambda m: m["type"] == "note_added" and m["seq"] == added["seq"]))["note"]
            await alice.command("edit_note", note_id=note["id"], text="Fråga brukarna först", base_version=1)
            await alice.command("move_note", note_id=note["id"], area_id=area, index=0)
            await bob.command("vote_note", note_id=note["id"], voted=True)
            await facilitator.command("set_voting_locked", locked=True)
            await facilitator.command("set_voting_locked", locked=False)
            await facilitator.command("set_timer", seconds=300)
            await facilitator.command("set_timer", seconds=None)
            await facilitator.command("set_screen", view="statement", statement_id=statements[0])
            await facilitator.command("set_results_visible", visible=True)
            await alice.wait_for(lambda m: m["type"] == "spectrum" and m["statements"] is not None)
            await alice.send({"type": "ping", "cid": "p-1"})
            await alice.wait_for(lambda m: m["type"] == "pong")
            with pytest.raises(CommandFailed, match="forbidden"):
                await alice.command("set_phase", phase="closed")
            refused = await send_refused(alice, statements[0])
            await alice.drop()
            await facilitator.command("add_note", area_id=area, text="Medan Alice var borta")
            resumed = await alice.connect()
            assert resumed["events"], "the resume was answered with a snapshot, not the missed events"
            await facilitator.command("start_round")
            await alice.command("delete_note", note_id=note["id"])
            await alice.wait_for(lambda m: m["type"] == "presence")
            deleted = await http.delete(
                f"/api/rooms/{room_id}", headers={"Authorization": f"Bearer {room['facilitator_token']}"}
            )
            assert deleted.status_code == 204
            await alice.wait_for(lambda m: m["type"] == "room_deleted")
        finally:
            for each in made:
                await each.close()
    return made, refused


async def send_refused(person: RoomClient, statement_id: str) -> set[str]:
    """Frames of a valid type whose shape the server refuses: each gets invalid_message."""
    bad: list[dict[str, Any]] = [
        {"type": "set_score", "cid": "bad-1", "statement_id": statement_id, "value": 11},
        {"type": "set_score", "cid": "bad-2", "statement_id": statement_id, "value": "7"},
        {"type": "add_note", "cid": "bad-3", "area_id": "now", "text": "x", "colour": "pink"},
        {"type": "shout", "cid": "bad-4"},
    ]
    for frame in bad:
        await person.send(frame)
        cid = frame["cid"]
        error = await person.wait_for(lambda m: m["type"] == "error" and m["cid"] == cid)  # noqa: B023
        assert error["code"] in {"invalid_message", "unknown_type"}, error
    return {str(frame["cid"]) for frame in bad}
