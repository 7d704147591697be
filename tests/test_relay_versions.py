"""Messages between instances are versioned and read tolerantly (app/relay.py), so two
versions of the app can share rooms during a rolling upgrade without losing a command.

Unit tests read hand-made messages; the rehearsal runs two real instances on PostgreSQL and
Redis where one is a test double of the next version: this module, run as
`python -m tests.test_relay_versions serve ...`, is `samskapa serve` with every message it
publishes on the bus carrying a field this version does not know, at every depth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from app import relay
from app.client import RoomClient
from app.protocol import Hello
from tests.conftest import require_postgres
from tests.servers import ServerProcess, export_through, fresh_postgres_database, running
from tests.test_cluster import REDIS_URL, require_redis

NEXT_FIELD = "next_version_field"
GOOD_NOTE = {"type": "add_note", "cid": "c-1", "area_id": "insights", "text": "Första"}
GOOD_SCORE = {"type": "set_score", "cid": "c-2", "statement_id": "s1", "value": 4}


def with_next_field(value: Any) -> Any:
    """`value` with a field unknown to this version added to every object in it, as an
    instance of the next version might send."""
    if isinstance(value, dict):
        return {**{key: with_next_field(item) for key, item in value.items()}, NEXT_FIELD: {"new": [1, 2]}}
    if isinstance(value, list):
        return [with_next_field(item) for item in value]
    return value


@pytest.fixture(autouse=True)
def fresh_reports() -> Iterator[None]:
    """What relay.py has said once already is per process; each test sees it anew."""
    relay._reported.clear()
    yield
    relay._reported.clear()


def batch(*items: dict[str, Any], **envelope: Any) -> str:
    return json.dumps({"inst": "next", "items": list(items), **envelope})


def frame(command: dict[str, Any], conn: str = "k1") -> dict[str, Any]:
    return {"type": "frame", "conn": conn, "command": command}


# ---------------------------------------------------------------- reading, unit level


def test_a_batch_with_an_unknown_top_level_field_is_read_whole() -> None:
    read = relay.read_to_owner(batch(frame(GOOD_NOTE), frame(GOOD_SCORE), **{NEXT_FIELD: 7}))
    assert read is not None and read.inst == "next" and read.v == 1
    assert [item.command.cid for item in read.items if isinstance(item, relay.ClientFrame)] == ["c-1", "c-2"]


def test_an_item_with_an_unknown_field_is_read() -> None:
    read = relay.read_to_owner(batch({"type": "leave", "conn": "k1", NEXT_FIELD: True}, frame(GOOD_NOTE)))
    assert read is not None
    assert read.items == [relay.LeaveSocket(conn="k1"), relay.ClientFrame.model_validate(frame(GOOD_NOTE))]


def test_an_item_of_an_unknown_type_is_skipped_and_the_others_are_read_in_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unknown = {"type": "teleport", "conn": "k1"}
    raw = batch(frame(GOOD_NOTE), unknown, frame(GOOD_SCORE), unknown)
    with caplog.at_level(logging.WARNING, logger="app.relay"):
        read = relay.read_to_owner(raw)
        relay.read_to_owner(raw)
    assert read is not None
    assert [type(item) for item in read.items] == [relay.ClientFrame, relay.ClientFrame]
    assert [item.command.cid for item in read.items if isinstance(item, relay.ClientFrame)] == ["c-1", "c-2"]
    said = [r.getMessage() for r in caplog.records if "teleport" in r.getMessage()]
    assert len(said) == 1, "said once, not per message"


def test_a_relayed_command_of_an_unknown_type_is_skipped_alone() -> None:
    raw = batch(frame(GOOD_NOTE), frame({"type": "dot_vote_budget", "cid": "c-9", "votes": 5}), frame(GOOD_SCORE))
    read = relay.read_to_owner(raw)
    assert read is not None
    assert [item.command.cid for item in read.items if isinstance(item, relay.ClientFrame)] == ["c-1", "c-2"]


def test_a_relayed_command_of_an_unknown_type_is_answered_in_its_place() -> None:
    """The client of a newer instance gets `unknown_type` for that command, in order among
    its others, instead of waiting for an ack that never comes."""
    raw = batch(frame(GOOD_NOTE), frame({"type": "dot_vote_budget", "cid": "c-9", "votes": 5}), frame(GOOD_SCORE))
    read = relay.read_to_owner(raw)
    assert read is not None
    kinds = [type(item).__name__ for item in read.items]
    assert kinds == ["ClientFrame", "UnreadableFrame", "ClientFrame"]
    unreadable = read.items[1]
    assert isinstance(unreadable, relay.UnreadableFrame)
    assert (unreadable.cid, unreadable.command_type) == ("c-9", "dot_vote_budget")


def test_a_relayed_command_or_hello_with_extra_fields_inside_is_read() -> None:
    """The owner reads what the relaying instance validated at its edge against its own
    (newer) protocol, ignoring what it does not know; clients stay held to the strict one."""
    groups = {"type": "set_groups", "cid": "c-3", "groups": [{"id": "a", "name": "A", "colour": "red"}]}
    hello = {"type": "hello", "name": "Ada", "languages": ["sv"]}
    raw = batch(
        {"type": "open", "conn": "k1", "hello": hello},
        frame({**GOOD_NOTE, "colour": "yellow"}),
        frame(groups),
        frame({**GOOD_SCORE, "confidence": 0.5}),
    )
    read = relay.read_to_owner(raw)
    assert read is not None
    opened, note, grouped, score = read.items
    assert isinstance(opened, relay.OpenSocket) and opened.hello == Hello(type="hello", name="Ada")
    assert isinstance(note, relay.ClientFrame) and note.command.model_dump(exclude_defaults=True) == GOOD_NOTE
    assert isinstance(grouped, relay.ClientFrame) and grouped.command.model_dump()["groups"] == [
        {"id": "a", "name": "A"}
    ]
    assert isinstance(score, relay.ClientFrame) and score.command.model_dump(exclude_defaults=True) == GOOD_SCORE


def test_every_field_added_everywhere_loses_no_item() -> None:
    items = [
        {"type": "open", "conn": "k1", "hello": {"type": "hello"}},
        frame(GOOD_NOTE),
        {"type": "leave", "conn": "k1"},
    ]
    plain = relay.read_to_owner(batch(*items))
    assert plain is not None
    assert relay.read_to_owner(json.dumps(with_next_field(json.loads(batch(*items))))) == plain


def test_a_message_without_a_version_is_version_one_and_version_one_is_written_without_it() -> None:
    """Today's instances send no `v` and refuse unknown fields: each reads the other."""
    sent = relay.RelayBatch(inst="a", items=[relay.LeaveSocket(conn="k1")]).model_dump_json()
    assert "v" not in json.loads(sent)
    strict_reader_of_old = relay.RelayBatch.model_validate_json(sent, extra="forbid")
    assert strict_reader_of_old.items == [relay.LeaveSocket(conn="k1")]
    read = relay.read_to_owner(sent)
    assert read is not None and read.v == 1
    assert "v" not in json.loads(relay.Deliver(room="r", batches=[]).model_dump_json())
    assert json.loads(relay.RelayBatch(v=2, inst="a", items=[]).model_dump_json())["v"] == 2


def test_a_newer_major_version_is_dropped_and_said_once_with_both_versions(caplog: pytest.LogCaptureFixture) -> None:
    newer = relay.RELAY_VERSION + 1
    with caplog.at_level(logging.WARNING, logger="app.relay"):
        assert relay.read_to_owner(batch(frame(GOOD_NOTE), v=newer)) is None
        assert relay.read_to_owner(batch(frame(GOOD_NOTE), v=newer)) is None
        assert relay.read_to_relay(json.dumps({"type": "close", "v": newer})) is None
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1
    assert f"version {newer}" in said[0] and f"version {relay.RELAY_VERSION}" in said[0]


def test_an_owners_message_with_unknown_fields_is_read_and_one_of_an_unknown_type_is_not() -> None:
    deliver = {"type": "deliver", "room": "r", "batches": [{"frame": "{}", "conns": ["k1", "k2"]}]}
    read = relay.read_to_relay(json.dumps(with_next_field(deliver)))
    assert read == relay.Deliver(room="r", batches=[relay.Delivery(frame="{}", conns=["k1", "k2"])])
    reply = relay.read_to_relay(json.dumps({"type": "export", "req": "q", "body": "{}", NEXT_FIELD: 1}))
    assert reply == relay.ExportReply(req="q", body="{}")
    assert relay.read_to_relay(json.dumps({"type": "migrate", "room": "r"})) is None
    assert relay.read_to_relay("not json") is None


# ---------------------------------------------------------------- a rolling-upgrade rehearsal


CLIENTS = 20
NOTES_EACH = 3
STATEMENTS = [f"s{i}" for i in range(1, 11)]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """This version and a test double of the next one, sharing PostgreSQL and Redis."""
    require_redis()
    require_postgres()
    with fresh_postgres_database() as database_url:
        this = ServerProcess(database_url, tmp_path, redis_url=REDIS_URL)
        command = ("-m", "tests.test_relay_versions", "serve", "--port", "{port}")
        following = ServerProcess(database_url, tmp_path, command=command, redis_url=REDIS_URL)
        with running(this, following):
            yield this, following


async def write(client: RoomClient, index: int) -> list[str]:
    """One participant's notes and scores; the texts of the notes acknowledged."""
    await client.connect(name=f"P{index}")
    acked = []
    for number in range(NOTES_EACH):
        text = f"Lapp {index}.{number}"
        await client.command("add_note", area_id="insights", text=text)
        acked.append(text)
        for statement in STATEMENTS[number::NOTES_EACH]:
            await client.command("set_score", statement_id=statement, value=1 + (index + number) % 10)
    return acked


@pytest.mark.parametrize("next_version_owns", [False, True], ids=["next-version-relays", "next-version-owns"])
async def test_two_versions_side_by_side_lose_no_acknowledged_command(
    servers: tuple[ServerProcess, ServerProcess], next_version_owns: bool
) -> None:
    this, following = servers
    owner, relaying = (following, this) if next_version_owns else (this, following)
    async with httpx.AsyncClient(base_url=owner.base_url) as http:
        created = await http.post("/api/rooms", json={"title": "Uppgradering"})
    assert created.status_code == 201
    room = created.json()
    facilitator = RoomClient(owner.base_url, room["room_id"], room["facilitator_token"])
    await facilitator.connect()  # the first client makes its instance the owner
    people = [RoomClient(relaying.base_url, room["room_id"]) for _ in range(CLIENTS)]
    # Set when a message of the next version's kind passes on the bus with its new field.
    next_field_seen = asyncio.Event()
    sent_by_next_version = '"deliver"' if next_version_owns else '"frame"'
    bus = aioredis.Redis.from_url(REDIS_URL)
    listening = bus.pubsub()
    # Everything the next version sends: the room's channel when it relays, the relaying
    # instance's when it owns.
    await listening.psubscribe("samskapa:room:*:in", "samskapa:instance:*:out")

    async def listen() -> None:
        async for message in listening.listen():
            data = message["data"].decode() if message["type"] == "pmessage" else ""
            if NEXT_FIELD in data and sent_by_next_version in data:
                next_field_seen.set()

    listener = asyncio.create_task(listen())
    try:
        acked = [text for texts in await asyncio.gather(*(write(c, i) for i, c in enumerate(people))) for text in texts]
        assert len(acked) == CLIENTS * NOTES_EACH
        # Exported through the relaying instance: the owner answers over the bus.
        response = await export_through(relaying, room)
        assert response.status_code == 200, response.text
        exported = response.json()
        assert sorted(note["text"] for note in exported["notes"]) == sorted(acked), "every acknowledged note"
        answered = {a["statement_id"]: a["n"] + (a["withheld"] or 0) for a in exported["aggregates"]}
        assert answered == dict.fromkeys(STATEMENTS, CLIENTS), "every acknowledged score"

        # The double really sent the field, on the commands it relayed or the frames it
        # delivered (waited for, as the listener may be a moment behind).
        await asyncio.wait_for(next_field_seen.wait(), 10)
        for log_text in (this.log(), following.log()):
            assert "does not parse" not in log_text and "does not know" not in log_text
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await listening.aclose()  # type: ignore[no-untyped-call]
        await bus.aclose()
        for client in [facilitator, *people]:
            await client.close()


def run_as_next_version(argv: list[str]) -> None:
    """`samskapa serve`, but every message this instance publishes on the bus carries a
    field this version does not know, in every object of it (the batch, each item, the
    command or hello inside, each delivery)."""
    from app import cli
    from app.bus.redis import RedisBus

    publish = RedisBus.publish

    def publish_as_next_version(self: RedisBus, channel: str, message: str) -> None:
        publish(self, channel, json.dumps(with_next_field(json.loads(message))))

    RedisBus.publish = publish_as_next_version  # type: ignore[method-assign]
    cli.main(argv)


if __name__ == "__main__":
    run_as_next_version(sys.argv[1:])


def test_a_relayed_hello_carries_no_field_the_previous_version_refuses() -> None:
    """A hello that listed its `protocols` is relayed as negotiated, without the list: an
    owner of the version before negotiation forbids unknown fields in a hello."""
    hello = Hello(type="hello", protocols=[1, 2], name="Ada")
    sent = json.loads(relay.RelayBatch(inst="i1", items=[relay.OpenSocket(conn="k1", hello=hello)]).model_dump_json())
    assert set(sent["items"][0]["hello"]) == {"type", "protocol", "token", "screen", "name", "epoch", "last_seq"}
