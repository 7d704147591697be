"""The live protocol as a machine-readable document: AsyncAPI 3.0, generated from app/protocol.py.

Owns the translation only: which model is which message, in which direction, with which
reply; every schema comes from pydantic. Pure: no FastAPI, no I/O (app/api.py serves it).
docs/protocol.md stays the prose; tests/test_protocol_schema.py holds the two together and
checks frames from a live server against the schemas.

The schemas are JSON Schema, written so that they read the same as draft 2020-12 (what
pydantic writes) and as draft-07 (what AsyncAPI's own schema format extends): so the payloads
need no `schemaFormat`. The one keyword pydantic writes that AsyncAPI reads differently,
OpenAPI's `discriminator` object on a union, becomes AsyncAPI's form: the property's name.
"""

from __future__ import annotations

import inspect
import json
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import core_schema

import app.protocol as p

ASYNCAPI_VERSION = "3.0.0"
SCHEMAS = "#/components/schemas/"
CHANNEL = "room"
CHANNEL_REF = f"#/channels/{CHANNEL}"


class _ServerSendsEveryField(GenerateJsonSchema):
    """A server message's field with a default is still always sent (the room dumps whole
    models), so a client may rely on it: required, as pydantic's
    `json_schema_serialization_defaults_required` would make it, without changing the models."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        if self.mode == "serialization":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)


# Client messages are described as the server reads them, server messages as it writes them.
_UNIONS: dict[str, tuple[Any, JsonSchemaMode]] = {
    "ClientMessage": (p.ClientMessage, "validation"),
    "Command": (p.Command, "validation"),
    "ServerMessage": (p.ServerMessage, "serialization"),
    "Event": (p.Event, "serialization"),
}


def _schemas() -> dict[str, Any]:
    """Every payload's schema and what they share, under one components/schemas."""
    inputs: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        (model.__name__, mode, TypeAdapter(model))
        for union, mode in (_UNIONS["ClientMessage"], _UNIONS["ServerMessage"])
        for model in p.models_of(union)
    ]
    inputs += [(name, mode, TypeAdapter(union)) for name, (union, mode) in _UNIONS.items()]
    keys, top = TypeAdapter.json_schemas(
        inputs, ref_template=SCHEMAS + "{model}", schema_generator=_ServerSendsEveryField
    )
    schemas: dict[str, Any] = dict(top["$defs"])
    for name, mode in ((name, mode) for name, (_, mode) in _UNIONS.items()):
        union = dict(keys[(name, mode)])
        union["discriminator"] = union["discriminator"]["propertyName"]
        schemas[name] = union
    # The model types a welcome's replayed events loosely (they are stored already encoded);
    # on the wire they are events, and a client may hold them to the Event schema.
    events = schemas["Welcome"]["properties"]["events"]
    events["anyOf"] = [{"type": "array", "items": {"$ref": SCHEMAS + "Event"}}, {"type": "null"}]
    leaked = [name for name in schemas if name.endswith(("-Input", "-Output"))]
    if leaked:  # a shape read and written differently would need a name of its own here
        raise TypeError(f"schemas differ between directions: {leaked}")
    return schemas


def _message(model: type[BaseModel], tags: list[str]) -> dict[str, Any]:
    doc = inspect.cleandoc(model.__doc__ or "")
    message: dict[str, Any] = {"name": p.type_of(model), "title": model.__name__}
    if doc:
        message["summary"] = doc.split("\n\n", 1)[0].replace("\n", " ")
        message["description"] = doc
    message["payload"] = {"$ref": SCHEMAS + model.__name__}
    if tags:
        message["tags"] = [{"name": tag} for tag in tags]
    return message


def _tags(model: type[BaseModel]) -> list[str]:
    name = p.type_of(model)
    if model in p.models_of(p.Command):
        return ["command", "facilitator"] if name in p.FACILITATOR_COMMANDS else ["command"]
    if model in p.models_of(p.Event):
        return ["event"]
    return []


def _refs(models: list[type[BaseModel]]) -> list[dict[str, str]]:
    return [{"$ref": f"{CHANNEL_REF}/messages/{p.type_of(model)}"} for model in models]


def _operations() -> dict[str, Any]:
    """What the server does with each message: from the server's side, as AsyncAPI 3 asks."""
    commands = p.models_of(p.Command)
    pushed: list[type[BaseModel]] = [*p.models_of(p.Event), p.Spectrum, p.Presence, p.Error]

    def receive(models: list[type[BaseModel]], replies: list[type[BaseModel]], summary: str) -> dict[str, Any]:
        channel = {"$ref": CHANNEL_REF}
        reply = {"channel": channel, "messages": _refs(replies)}
        return {"action": "receive", "channel": channel, "summary": summary, "messages": _refs(models), "reply": reply}

    return {
        "hello": receive(
            [p.Hello],
            [p.Welcome, p.Error],
            "The first message on every connection: a welcome, or an error (then, for some codes, a close).",
        ),
        "command": receive(commands, [p.Ack, p.Error], "A command: its events reach the sender before its ack."),
        "ping": receive([p.Ping], [p.Pong, p.Error], "Is the connection alive? Not a command: no ack, no event."),
        "room_updates": {
            "action": "send",
            "channel": {"$ref": CHANNEL_REF},
            "summary": "What changes in the room, to each connection allowed to see it; coalesced spectrum and "
            "presence; an error on connecting to a room that cannot be reached.",
            "messages": _refs(pushed),
        },
    }


def build() -> dict[str, Any]:
    """The whole document, computed anew (the server serves `document()`, computed once)."""
    client = p.models_of(p.ClientMessage)
    server = p.models_of(p.ServerMessage)
    messages = {p.type_of(model): _message(model, _tags(model)) for model in [*client, *server]}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Samskapa live protocol",
            "version": str(p.PROTOCOL_VERSION),
            "description": "The WebSocket protocol of a Samskapa room, generated from app/protocol.py. "
            "docs/protocol.md describes it in prose: the session, idempotency, audiences, limits.",
        },
        "defaultContentType": "application/json",
        "channels": {
            CHANNEL: {
                "address": "/ws/rooms/{room_id}",
                "title": "A room",
                "description": "One JSON object per text frame, each with a `type`. `?join=new` greets a new "
                "participant without a hello.",
                "parameters": {"room_id": {"description": "From POST /api/rooms or GET /api/join/{code}."}},
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": _operations(),
        "components": {"schemas": _schemas(), "messages": messages},
        "x-protocol-versions": sorted(p.SUPPORTED_PROTOCOLS),
        "x-error-codes": [code.value for code in p.ErrorCode],
        "x-close-codes": [{"code": int(code), "name": code.name} for code in p.CloseCode],
    }


@cache
def document() -> dict[str, Any]:
    """The document, built once per process: the models do not change while it runs."""
    return build()


@cache
def document_json() -> bytes:
    """The document as served: encoded once."""
    return json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode()
