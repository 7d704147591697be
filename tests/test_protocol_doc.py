"""docs/protocol.md and app/protocol.py must not drift apart.

Every message type, error code, close code and message field in the code appears in the
doc; every JSON example in the doc is a valid message (checked with the server's own
adapters); the limits table states the real defaults.
"""

from __future__ import annotations

import json
import re
import typing
from functools import cache
from pathlib import Path
from typing import Any

import annotated_types
import pytest
from pydantic import BaseModel, ValidationError

from app import protocol as p
from app import transport, ws
from app.settings import Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
# Shapes nested in messages whose fields a client must know too.
NESTED_SHAPES: tuple[type[BaseModel], ...] = (
    p.NotePublic,
    p.ParticipantPublic,
    p.StatementSpectrum,
    p.RoomSettings,
    p.Snapshot,
    p.You,
    p.GroupDef,
)


CLIENT_TYPES = {p.type_of(model): model for model in p.models_of(p.ClientMessage)}
SERVER_TYPES = {p.type_of(model): model for model in p.models_of(p.ServerMessage)}


@cache
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@cache
def inline_code() -> frozenset[str]:
    """Everything written as `code` in the doc, outside fenced blocks."""
    prose = re.sub(r"```.*?```", "", doc_text(), flags=re.DOTALL)
    return frozenset(re.findall(r"`([^`\n]+)`", prose))


@cache
def headings() -> tuple[str, ...]:
    return tuple(line for line in doc_text().splitlines() if line.startswith("#"))


@cache
def json_blocks() -> tuple[str, ...]:
    return tuple(re.findall(r"^ *```json\n(.*?)^ *```", doc_text(), flags=re.DOTALL | re.MULTILINE))


def typed_examples() -> list[dict[str, Any]]:
    examples = [json.loads(block) for block in json_blocks()]
    return [e for e in examples if isinstance(e, dict) and "type" in e]


def test_client_and_server_type_names_do_not_overlap() -> None:
    """The example check below picks the adapter by type name, so the names must be unique."""
    assert not CLIENT_TYPES.keys() & SERVER_TYPES.keys()
    assert len(CLIENT_TYPES) == len(p.models_of(p.ClientMessage))
    assert len(SERVER_TYPES) == len(p.models_of(p.ServerMessage))


@pytest.mark.parametrize("type_name", sorted(CLIENT_TYPES | SERVER_TYPES))
def test_every_message_type_is_documented_as_heading_or_code(type_name: str) -> None:
    in_heading = any(f"`{type_name}`" in heading for heading in headings())
    assert in_heading or type_name in inline_code(), f"docs/protocol.md never names `{type_name}`"


@pytest.mark.parametrize("type_name", sorted(CLIENT_TYPES | SERVER_TYPES))
def test_every_message_type_has_a_json_example(type_name: str) -> None:
    documented = {example["type"] for example in typed_examples()}
    assert type_name in documented, f"docs/protocol.md has no ```json example of {type_name!r}"


@pytest.mark.parametrize("code", [code.value for code in p.ErrorCode])
def test_every_error_code_is_documented(code: str) -> None:
    assert code in inline_code(), f"error code `{code}` is missing from docs/protocol.md"


@pytest.mark.parametrize("code", [int(code) for code in p.CloseCode])
def test_every_close_code_is_documented(code: int) -> None:
    assert str(code) in inline_code(), f"close code `{code}` is missing from docs/protocol.md"


EVERY_MODEL: list[type[BaseModel]] = sorted(
    {*CLIENT_TYPES.values(), *SERVER_TYPES.values(), *NESTED_SHAPES}, key=lambda m: m.__name__
)


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda model: model.__name__)
def test_every_message_field_is_documented(model: type[BaseModel]) -> None:
    """A field appears as `code` in the prose or as a key in one of the JSON examples. A
    field of a server message the server never writes (`exclude`) is not on the wire."""
    example_keys = set(re.findall(r'"([a-z_]+)"\s*:', "\n".join(json_blocks())))
    sent_by_clients = model in CLIENT_TYPES.values()
    on_the_wire = [name for name, field in model.model_fields.items() if sent_by_clients or not field.exclude]
    missing = [name for name in on_the_wire if name not in inline_code() | example_keys]
    assert not missing, f"{model.__name__} fields not in docs/protocol.md: {missing}"


def test_every_json_block_is_valid_json() -> None:
    assert json_blocks(), "docs/protocol.md has no ```json blocks"
    for block in json_blocks():
        try:
            json.loads(block)
        except json.JSONDecodeError as error:
            pytest.fail(f"not valid JSON ({error}):\n{block}")


def test_every_json_example_is_a_valid_message() -> None:
    """Client examples parse as client messages, server examples as server messages, and the
    events replayed inside a welcome as server messages too."""
    checked = 0
    for example in typed_examples():
        kind = example["type"]
        try:
            if kind in CLIENT_TYPES:
                # As app/ws.py parses a frame: from JSON text, with exact JSON types.
                parsed = p.client_message_adapter.validate_json(json.dumps(example), strict=True)
            elif kind in SERVER_TYPES:
                parsed = p.server_message_adapter.validate_json(json.dumps(example))
            else:
                pytest.fail(f"example of unknown type {kind!r}: {example}")
            for event in example.get("events") or []:
                p.server_message_adapter.validate_python(event)
        except ValidationError as error:
            pytest.fail(f"the {kind!r} example is not valid:\n{error}\n{json.dumps(example, indent=2)}")
        assert p.type_of(type(parsed)) == kind
        checked += 1
    assert checked >= len(CLIENT_TYPES) + len(SERVER_TYPES)


def test_examples_round_trip_through_the_models() -> None:
    """What the doc shows is what the server sends: dumping a parsed server example gives the
    same JSON back, so the examples hold no field the server would drop or rename."""
    for example in typed_examples():
        if example["type"] not in SERVER_TYPES:
            continue
        parsed = p.server_message_adapter.validate_python(example)
        dumped = json.loads(parsed.model_dump_json())
        assert set(dumped) == set(example), f"{example['type']}: {set(dumped) ^ set(example)}"


def test_limits_table_states_the_real_defaults() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| `(SAMSKAPA_[A-Z_]+)` \| ([0-9.]+) \|", doc_text(), re.MULTILINE)
    assert len(rows) >= 8, "the limits table in docs/protocol.md is missing or malformed"
    fields = Settings.model_fields
    for name, variable, documented in rows:
        assert name in fields, f"docs/protocol.md lists an unknown setting {name!r}"
        assert variable == f"SAMSKAPA_{name.upper()}"
        assert float(documented) == float(fields[name].default), f"{name}: doc {documented}"
    for must in ("max_frame_bytes", "command_rate_per_second", "command_burst", "spectrum_hz"):
        assert must in {row[0] for row in rows}, f"the limits table lacks {must}"


def test_doc_states_the_hello_timeout_and_frame_limit() -> None:
    text = doc_text()
    assert f"within **{ws.HELLO_TIMEOUT_SECONDS:g} seconds**" in text
    assert f"{Settings.model_fields['max_frame_bytes'].default:,} bytes" in text
    assert p.PROTOCOL_VERSION == 1 and "Protocol version: **1**" in text


def section(title: str) -> str:
    """The text of the doc's `## title` section, up to the next one."""
    return doc_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_compression_is_stated_once_and_as_the_server_negotiates_it() -> None:
    """Issue 22: one bullet said permessage-deflate is accepted, a later one that it is not
    negotiated. It is (app/transport.py): without context takeover either way, for frames of
    1,024 characters or more."""
    bullets = re.split(r"\n(?=- \*\*)", section("Transport"))
    about = [bullet for bullet in bullets if re.search(r"deflate|compress", bullet, re.IGNORECASE)]
    assert len(about) == 1, "compression is described in more than one place:\n" + "\n".join(about)
    assert not re.search(r"\bnot\b[^.]*\bnegotiat", doc_text(), re.IGNORECASE)
    factory = transport.deflate_factory()
    assert factory.server_no_context_takeover and factory.client_no_context_takeover
    for stated in (
        "server_no_context_takeover",
        "client_no_context_takeover",
        f"at most {factory.client_max_window_bits} bits",
        f"frames of {transport.COMPRESS_FROM_CHARS:,} characters or more",
    ):
        assert stated in about[0], stated


NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def test_the_roles_are_counted_and_tabled_as_the_server_has_them() -> None:
    """Issue 22: "There are two roles", then a table of three."""
    roles = typing.get_args(p.Role)
    text = section("Identities and roles")
    assert f"There are {NUMBER_WORDS[len(roles)]} roles." in text
    assert sorted(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE)) == sorted(roles)


def accepted(name: str) -> str:
    """What a setting accepts, as the limits table writes it: "≥ 10", "> 0, ≤ 50"."""
    signs: list[tuple[type, str, str]] = [
        (annotated_types.Gt, ">", "gt"),
        (annotated_types.Ge, "≥", "ge"),
        (annotated_types.Lt, "<", "lt"),
        (annotated_types.Le, "≤", "le"),
    ]
    bounds = []
    for constraint in Settings.model_fields[name].metadata:
        for kind, sign, attribute in signs:
            if isinstance(constraint, kind):
                value = getattr(constraint, attribute)
                bounds.append(f"{sign} {value:,}" if isinstance(value, int) else f"{sign} {value:g}")
    return ", ".join(bounds)


def test_the_limits_table_states_what_each_setting_accepts() -> None:
    """Issue 22: SAMSKAPA_REPLAY_EVENTS below 10 stops the server, and nothing said so. Every
    bound app/settings.py puts on a setting of the table is in its "accepted" column."""
    rows = re.findall(
        r"^\| `([a-z_]+)` \| `SAMSKAPA_[A-Z_]+` \| [0-9.]+ \| ([^|]*) \|", section("Limits"), re.MULTILINE
    )
    assert len(rows) >= 8, "the limits table has no accepted column, or is malformed"
    for name, stated in rows:
        assert stated.strip() == accepted(name), f"{name}: the doc says {stated.strip()!r}"
    assert dict(rows)["replay_events"].strip() == "≥ 10"
