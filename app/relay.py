"""The messages between instances (app/cluster.py), as typed pydantic models.

Two directions, one union each: what relaying instances send a room's owner on the room's
channel (always gathered in a `RelayBatch`, one per event-loop turn), and what the owner
sends back on a relaying instance's channel. A message that does not parse is a bug in a
peer of another version: it is logged and dropped, never half-handled. Pure shapes: must
not import the rest of the app but the protocol.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.protocol import Command, Hello


class _Relayed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- to the owner


class OpenSocket(_Relayed):
    """A client connected to the relaying instance and said hello."""

    type: Literal["open"] = "open"
    conn: str
    hello: Hello


class ClientFrame(_Relayed):
    """A command from a relayed client (validated at the edge already)."""

    type: Literal["frame"] = "frame"
    conn: str
    command: Command


class LeaveSocket(_Relayed):
    type: Literal["leave"] = "leave"
    conn: str


class ExportRequest(_Relayed):
    type: Literal["export"] = "export"
    req: str


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


class RelayBatch(_Relayed):
    """What one instance sent a room's owner in one event-loop turn, in order."""

    inst: str
    items: list[ToOwner]


# ---------------------------------------------------------------- to a relaying instance


class Delivery(_Relayed):
    """One frame, once, with the ids of the relayed sockets that get it."""

    frame: str
    conns: list[str]


class Deliver(_Relayed):
    type: Literal["deliver"] = "deliver"
    room: str
    batches: list[Delivery]


class CloseSocket(_Relayed):
    type: Literal["close"] = "close"
    room: str
    conn: str
    code: int
    reason: str


class ExportReply(_Relayed):
    type: Literal["export"] = "export"
    req: str
    body: str


ToRelay = Annotated[Deliver | CloseSocket | ExportReply, Field(discriminator="type")]

to_owner: TypeAdapter[RelayBatch] = TypeAdapter(RelayBatch)
to_relay: TypeAdapter[Deliver | CloseSocket | ExportReply] = TypeAdapter(ToRelay)
