"""The messages between instances (app/cluster.py), as typed pydantic models, and how they
are read.

Two directions, one union each: what relaying instances send a room's owner on the room's
channel (always gathered in a `RelayBatch`, one per event-loop turn), and what the owner
sends back on a relaying instance's channel. Pure shapes and their readers: must not import
the rest of the app but the protocol.

Versions. During a rolling upgrade two versions of the app exchange these messages, so every
message on the bus is an envelope with `v`, the major version of this format
(RELAY_VERSION). Within a major version a change is additive only, and readers are tolerant:
a field they do not know is ignored, at any depth (also inside a relayed command or hello),
and each item of a batch is read on its own, so an item that does not parse (a type from a
newer version, say) is logged and skipped while the others are handled in order. A change
that an older reader cannot get right by ignoring what it does not know bumps `v`; a reader
drops a message of a newer major version whole (a guess at its meaning could apply a
command wrongly) and logs that once per version. Version 1 is written without `v` (a
message without one is version 1): instances from before the envelope refuse unknown
fields, and so read what this version sends.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
)
from pydantic_core import from_json

from app.protocol import Command, Hello

log = logging.getLogger(__name__)

# The major version this instance writes and the newest it reads (it reads every older one).
RELAY_VERSION = 1
# What a message without `v` is: everything sent before the envelope existed.
UNVERSIONED = 1


class _Relayed(BaseModel):
    """Tolerant of fields a newer instance adds. The readers below also validate with
    `extra="ignore"`, which pydantic applies at every depth: it reaches the app.protocol
    models embedded in `OpenSocket.hello` and `ClientFrame.command`, which stay strict
    (`extra="forbid"`) for clients. The relaying instance validated those at its edge
    already, against its own (newer) models; the owner dropping a command for a field it
    does not know would lose an acknowledged-looking write in every rolling upgrade, while
    ignoring it loses only what this version cannot act on anyway. Stripping unknown keys by
    hand against the models would need to walk unions and lists; the validation-time
    override does the same with the models' own schema."""

    model_config = ConfigDict(extra="ignore")


class _Envelope(_Relayed):
    """A whole message on the bus: it carries the format's major version."""

    v: int = RELAY_VERSION

    @model_serializer(mode="wrap")
    def _version_one_unwritten(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Version 1 goes out without `v`, exactly as before the envelope: instances of
        that code forbid unknown fields and would drop a whole batch for a `v`."""
        data = handler(self)
        if isinstance(data, dict) and data.get("v") == UNVERSIONED:
            del data["v"]
        return data


# ---------------------------------------------------------------- to the owner


class OpenSocket(_Relayed):
    """A client connected to the relaying instance and said hello. `speaks` is every protocol
    version both the client and the relaying instance speak: the owner chooses among them
    itself, since the relaying instance may speak versions the owner does not (a rolling
    upgrade). Written only when the client named a list, and ignored by an owner from before
    it (it reads tolerantly)."""

    type: Literal["open"] = "open"
    conn: str
    hello: Hello
    speaks: list[int] | None = None

    @model_serializer(mode="wrap")
    def _speaks_only_when_given(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("speaks") is None:
            data.pop("speaks", None)
        return data


class ClientFrame(_Relayed):
    """A command from a relayed client (validated at the edge already)."""

    type: Literal["frame"] = "frame"
    conn: str
    command: Command


class LeaveSocket(_Relayed):
    type: Literal["leave"] = "leave"
    conn: str


class ExportRequest(_Relayed):
    """An export asked for through the relaying instance. The owner renders it in `format`
    itself: it reads its own version of the export, which the relaying instance may not
    (a rolling upgrade). Without `format` (an instance from before it) the owner sends the
    JSON document, and an owner from before it does so anyway."""

    type: Literal["export"] = "export"
    req: str
    format: str | None = None

    @model_serializer(mode="wrap")
    def _format_only_when_given(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("format") is None:
            data.pop("format", None)
        return data


class DeleteRoom(_Relayed):
    """The room was deleted through an instance that does not own it."""

    type: Literal["deleted"] = "deleted"


class RevokeAccess(_Relayed):
    """A co-facilitator key of the room was revoked through an instance that does not own
    it: the owner closes that key's sockets, relayed ones through their instances."""

    type: Literal["revoked"] = "revoked"
    co_facilitator: str


ToOwner = Annotated[
    OpenSocket | ClientFrame | LeaveSocket | ExportRequest | DeleteRoom | RevokeAccess, Field(discriminator="type")
]


class RelayBatch(_Envelope):
    """What one instance sent a room's owner in one event-loop turn, in order."""

    inst: str
    items: list[ToOwner | UnreadableFrame]


class UnreadableFrame(BaseModel):
    """Never sent: what the reader makes of a relayed command this version cannot read (a
    type a newer instance knows, say), so that the owner answers its client with an error,
    in its place among the client's commands, instead of leaving it waiting for an ack."""

    type: Literal["unreadable"] = "unreadable"
    conn: str
    cid: str | None
    command_type: str


# ---------------------------------------------------------------- to a relaying instance


class Delivery(_Relayed):
    """One frame, once, with the ids of the relayed sockets that get it."""

    frame: str
    conns: list[str]


class Deliver(_Envelope):
    type: Literal["deliver"] = "deliver"
    room: str
    batches: list[Delivery]


class CloseSocket(_Envelope):
    type: Literal["close"] = "close"
    room: str
    conn: str
    code: int
    reason: str


class ExportReply(_Envelope):
    """The export: the file the owner rendered, named by `file_name`; or, without a name,
    the JSON document for the relaying instance to render."""

    type: Literal["export"] = "export"
    req: str
    body: str
    file_name: str | None = None


ToRelay = Annotated[Deliver | CloseSocket | ExportReply, Field(discriminator="type")]


# ---------------------------------------------------------------- reading


class _BatchHeader(_Relayed):
    """A batch before its items are read, so that one bad item cannot take the rest along."""

    v: int = UNVERSIONED
    inst: str
    items: list[Any]


_batch: TypeAdapter[RelayBatch] = TypeAdapter(RelayBatch)
_item: TypeAdapter[OpenSocket | ClientFrame | LeaveSocket | ExportRequest | DeleteRoom | RevokeAccess] = TypeAdapter(
    ToOwner
)
_to_relay: TypeAdapter[Deliver | CloseSocket | ExportReply] = TypeAdapter(ToRelay)
# What was logged already: a rolling upgrade sends the same news many times a second.
_reported: set[tuple[str, object]] = set()


def read_to_owner(raw: str | bytes) -> RelayBatch | None:
    """A batch for a room's owner, with every item that parses, in order; None when the
    message cannot be read at all (not JSON, no `inst`, a newer major version). The whole
    batch is validated first (the usual case, one pass); only when that fails are its
    items read one by one to find the ones to skip."""
    data = _envelope(raw)
    if data is None:
        return None
    try:
        return _batch.validate_python(data, extra="ignore")
    except ValidationError:
        pass
    try:
        header = _BatchHeader.model_validate(data)
    except ValidationError as error:
        problems = error.errors(include_input=False, include_url=False)
        log.warning("dropped a relayed batch whose envelope does not parse: %s", problems)
        return None
    items: list[ToOwner | UnreadableFrame] = []
    for raw_item in header.items:
        try:
            items.append(_item.validate_python(raw_item, extra="ignore"))
        except ValidationError as error:
            _skipped(raw_item, error)
            unreadable = _unreadable_frame(raw_item)
            if unreadable is not None:
                items.append(unreadable)
    return RelayBatch(v=header.v, inst=header.inst, items=items)


def _unreadable_frame(item: object) -> UnreadableFrame | None:
    """A relayed client's command that did not parse, when it says whose and which it is."""
    if not isinstance(item, dict) or item.get("type") != "frame" or not isinstance(item.get("conn"), str):
        return None
    command = item.get("command")
    if not isinstance(command, dict):
        return None
    cid, command_type = command.get("cid"), command.get("type")
    return UnreadableFrame(
        conn=item["conn"],
        cid=cid if isinstance(cid, str) else None,
        command_type=command_type if isinstance(command_type, str) else "",
    )


def read_to_relay(raw: str | bytes) -> Deliver | CloseSocket | ExportReply | None:
    """An owner's message for a relaying instance; None (logged) when it cannot be read."""
    data = _envelope(raw)
    if data is None:
        return None
    try:
        return _to_relay.validate_python(data, extra="ignore")
    except ValidationError as error:
        _skipped(data, error)
        return None


def _envelope(raw: str | bytes) -> dict[str, Any] | None:
    """The message as a dict with its version filled in, or None if this instance cannot
    read it: not a JSON object, or of a major version newer than this one."""
    try:
        data = from_json(raw)
    except ValueError:
        log.warning("dropped a message between instances that is not JSON")
        return None
    if not isinstance(data, dict):
        log.warning("dropped a message between instances that is not a JSON object")
        return None
    version = data.setdefault("v", UNVERSIONED)
    if not isinstance(version, int) or isinstance(version, bool):
        log.warning("dropped a message between instances whose version is not a number: %r", version)
        return None
    if version > RELAY_VERSION:
        if ("version", version) not in _reported:
            _reported.add(("version", version))
            log.warning(
                "dropping messages of relay version %d from another instance: this one reads up to version %d",
                version,
                RELAY_VERSION,
            )
        return None
    return data


def _skipped(item: object, error: ValidationError) -> None:
    """An item of a type this version does not know (at its top or in a relayed command)
    is news from a newer instance: said once per type. Any other item that does not
    parse is a bug, said every time."""
    unknown = [str(e.get("ctx", {}).get("tag")) for e in error.errors() if e["type"] == "union_tag_invalid"]
    if unknown:
        for tag in unknown:
            if ("type", tag) not in _reported:
                _reported.add(("type", tag))
                log.warning("skipping messages between instances of type %r, which this version does not know", tag)
        return
    kind: object = item.get("type") if isinstance(item, dict) else None
    # Where and why, never the input: a relayed command can hold a note's text or a name.
    problems = error.errors(include_input=False, include_url=False)
    log.warning("skipped a message between instances (type %r) that does not parse: %s", kind, problems)
