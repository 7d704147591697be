"""Several app instances serving one room: one instance owns it, the others relay.

A room has exactly one owner at a time, chosen by a lease on the bus (Redis when several
instances run). The owner's LiveRoom is the room's single sequencer, so seq stays one total
order however many instances clients are connected to. Another instance that receives a
client for the room keeps the socket and relays it: hello, commands and leave go to the
owner on the room's channel; the owner's frames come back on that instance's channel,
batched (one message per frame per instance, not per client).

If the owner dies its lease runs out (OWNER_LEASE_MS) and the relaying instances close their
clients with SERVER_RESTART; they reconnect, one instance takes the lease and loads the room
from the store (a new epoch: clients get a snapshot). Nothing acknowledged is lost, because
notes and settings are committed before they are acknowledged and a re-sent command id is
recognised from the store. Knows sockets only through the Peer protocol; no FastAPI here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from app import logs, relay
from app import protocol as p
from app.bus import Bus
from app.connection import Peer
from app.export import RENDERERS, file_name
from app.export_versions import upgrade
from app.room import LiveRoom, Rejected
from app.snapshot import BoardExport

log = logging.getLogger(__name__)

OWNER_LEASE_MS = 5000
OWNER_CHECK_SECONDS = 1.0
# A relayed hello the owner does not answer in this time: the client reconnects (the owner
# may have died or stepped down; the lease watcher then closes everyone else too).
RELAY_ANSWER_SECONDS = 3.0
EXPORT_TIMEOUT_SECONDS = 10.0


def lease_key(room_id: str) -> str:
    return f"samskapa:room:{room_id}:owner"


def room_channel(room_id: str) -> str:
    return f"samskapa:room:{room_id}:in"


def instance_channel(instance_id: str) -> str:
    return f"samskapa:instance:{instance_id}:out"


class Unavailable(Exception):
    """The bus is unreachable, so nobody can say who owns the room; the client retries."""


# ---------------------------------------------------------------- the owner's side


class InstanceRelay:
    """Frames for the sockets one other instance holds, gathered per event-loop turn and
    sent as one message with each distinct frame once and the ids of its receivers."""

    def __init__(self, bus: Bus, room_id: str, instance_id: str) -> None:
        self._bus = bus
        self._room_id = room_id
        self._channel = instance_channel(instance_id)
        self._batches: dict[int, tuple[str, list[str]]] = {}
        self._scheduled = False

    def deliver(self, conn_id: str, frame: str) -> None:
        entry = self._batches.get(id(frame))
        if entry is None:
            self._batches[id(frame)] = (frame, [conn_id])
        else:
            entry[1].append(conn_id)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._batches:
            return
        batches = [relay.Delivery(frame=frame, conns=conns) for frame, conns in self._batches.values()]
        self._batches.clear()
        self.send(relay.Deliver(room=self._room_id, batches=batches))

    def close(self, conn_id: str, code: int, reason: str) -> None:
        self.flush()
        self.send(relay.CloseSocket(room=self._room_id, conn=conn_id, code=code, reason=reason))

    def send(self, message: relay.Deliver | relay.CloseSocket | relay.ExportReply) -> None:
        self._bus.publish(self._channel, message.model_dump_json())


class RemotePeer:
    """On the owner: a client whose socket another instance holds."""

    def __init__(self, instance: InstanceRelay, conn_id: str) -> None:
        self.instance = instance
        self.conn_id = conn_id
        self.role: p.Role = "participant"
        self.participant_id: str | None = None
        self.inbox: asyncio.Queue[p.Command | relay.UnreadableFrame | None] = asyncio.Queue()
        self.closed = False

    def identify(self, role: p.Role, participant_id: str | None) -> None:
        self.role, self.participant_id = role, participant_id

    def send(self, frame: str) -> None:
        if not self.closed:
            self.instance.deliver(self.conn_id, frame)

    def close(self, code: int, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            self.instance.close(self.conn_id, code, reason)


class RoomHost:
    """The owner's side of a room: relayed clients, and keeping the lease."""

    def __init__(
        self, room: LiveRoom, bus: Bus, on_lost: Callable[[RoomHost], Coroutine[Any, Any, None]], leased_at: float
    ) -> None:
        self.room = room
        self._bus = bus
        self._on_lost = on_lost
        self._relays: dict[str, InstanceRelay] = {}
        self._peers: dict[tuple[str, str], RemotePeer] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._unsubscribe = bus.subscribe(room_channel(room.room_id), self._receive)
        self._forget_lease = bus.keep(lease_key(room.room_id), OWNER_LEASE_MS, leased_at, self._lease_lost)

    def _relay(self, instance_id: str) -> InstanceRelay:
        found = self._relays.get(instance_id)
        if found is None:
            found = self._relays[instance_id] = InstanceRelay(self._bus, self.room.room_id, instance_id)
        return found

    def _receive(self, raw: str) -> None:
        """What one relaying instance sent in one loop turn, item by item, in order. Read
        tolerantly (app/relay.py): an item this version cannot read is skipped, not the
        batch, so a newer instance's extra field never costs the others their commands."""
        batch = relay.read_to_owner(raw)
        if batch is None:
            return
        for item in batch.items:
            self._receive_one(batch.inst, item)

    def _receive_one(self, instance_id: str, item: relay.ToOwner | relay.UnreadableFrame) -> None:
        match item:
            case relay.UnreadableFrame(conn=conn):
                unread_by = self._peers.get((instance_id, conn))
                if unread_by is not None:
                    unread_by.inbox.put_nowait(item)
            case relay.OpenSocket(conn=conn, hello=hello, speaks=speaks):
                peer = RemotePeer(self._relay(instance_id), conn)
                self._peers[(instance_id, conn)] = peer
                worker = asyncio.get_running_loop().create_task(self._serve(peer, hello, speaks))
                self._workers.add(worker)
                worker.add_done_callback(self._workers.discard)
            case relay.ClientFrame(conn=conn, command=command):
                peer_of = self._peers.get((instance_id, conn))
                if peer_of is not None:
                    peer_of.inbox.put_nowait(command)
            case relay.LeaveSocket(conn=conn):
                leaving = self._peers.pop((instance_id, conn), None)
                if leaving is not None:
                    leaving.inbox.put_nowait(None)
            case relay.ExportRequest(req=request_id, format=wanted):
                export = self.room.export()  # now, in one step: one consistent seq
                if wanted in RENDERERS:
                    rendering = self._send_rendered(instance_id, request_id, export, wanted)
                    task = asyncio.get_running_loop().create_task(rendering)
                    self._workers.add(task)
                    task.add_done_callback(self._workers.discard)
                else:
                    body = export.model_dump_json()
                    self._relay(instance_id).send(relay.ExportReply(req=request_id, body=body))
            case relay.DeleteRoom():
                self.room.mark_deleted()
            case relay.RevokeAccess(co_facilitator=co_facilitator_id):
                self.room.revoke(co_facilitator_id)

    async def _send_rendered(self, instance_id: str, request_id: str, export: BoardExport, format: str) -> None:
        render, _ = RENDERERS[format]
        body = (await asyncio.to_thread(render, export)).decode()
        reply = relay.ExportReply(req=request_id, body=body, file_name=file_name(export, format))
        self._relay(instance_id).send(reply)

    async def _serve(self, peer: RemotePeer, hello: p.Hello, speaks: list[int] | None) -> None:
        """One relayed client's commands, in order, as the local socket route does."""
        logs.bind_room(self.room.room_id)  # this task's own context: its lines name the room
        # The owner speaks to the client, so the owner chooses the version: from the client's
        # list when the relaying instance sent it, else the one that instance chose, which an
        # owner of an older version may not speak.
        chosen = p.choose_protocol(speaks or (hello.protocol,))
        if isinstance(chosen, p.Unsupported):
            peer.send(p.Error(code=p.ErrorCode.UNSUPPORTED_PROTOCOL, message=chosen.message).model_dump_json())
            peer.close(chosen.close_code, chosen.message)
            return
        hello = hello.model_copy(update={"protocol": chosen})
        try:
            await self.room.join(peer, hello)
        except Rejected as rejected:
            peer.send(rejected.error.model_dump_json())
            peer.close(rejected.close_code, rejected.error.message)
            return
        except Exception:
            log.exception("relayed join failed")
            peer.close(p.CloseCode.SERVER_RESTART, "try again")
            return
        try:
            while (command := await peer.inbox.get()) is not None:
                if isinstance(command, relay.UnreadableFrame):
                    # A command of a newer instance's version: answered, never left hanging.
                    message = f"This server does not know {command.command_type!r} yet."
                    error = p.Error(code=p.ErrorCode.UNKNOWN_TYPE, message=message, cid=command.cid)
                    peer.send(error.model_dump_json())
                    continue
                await self.room.handle(peer, command)
        finally:
            self.room.leave(peer)

    def _lease_lost(self) -> None:
        log.warning("lost the lease on room %s; stepping down", self.room.room_id, extra={"room": self.room.room_id})
        task = asyncio.get_running_loop().create_task(self._on_lost(self))
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def stop(self, release: bool) -> None:
        """Stop hosting: close relayed clients (they reconnect), give the lease back."""
        self._unsubscribe()
        self._forget_lease()
        for peer in list(self._peers.values()):
            peer.close(p.CloseCode.SERVER_RESTART, "room moving; reconnect")
            peer.inbox.put_nowait(None)
        self._peers.clear()
        for instance in self._relays.values():
            instance.flush()
        if release:
            await self._bus.release(lease_key(self.room.room_id))


# ---------------------------------------------------------------- a relaying instance's side


class RemoteRoom:
    """A room owned by another instance, seen from one that holds some of its sockets."""

    def __init__(self, room_id: str, owner: str, node: ClusterNode) -> None:
        self.room_id = room_id
        self.owner = owner
        self._node = node
        self.connections: dict[str, Peer] = {}
        self._outgoing: list[relay.ToOwner] = []
        self._ids = itertools.count(1)
        self._watcher = asyncio.get_running_loop().create_task(self._watch_owner())

    async def join(self, connection: Peer, hello: p.Hello) -> None:
        conn_id = f"{id(self):x}-{next(self._ids)}"
        self.connections[conn_id] = connection
        self._node.register(conn_id, connection)
        # What the client and this instance both speak (this instance reads the client's
        # commands before relaying them), for the owner to choose from. Only when the client
        # gave a list: a message without it is what an owner from before the relay's
        # envelope reads (it refuses fields it does not know).
        speaks = sorted(hello.speaks() & set(p.SUPPORTED_PROTOCOLS)) if hello.protocols else None
        self.send(relay.OpenSocket(conn=conn_id, hello=hello, speaks=speaks))
        loop = asyncio.get_running_loop()
        self._node.awaiting[conn_id] = loop.call_later(RELAY_ANSWER_SECONDS, self._unanswered, conn_id)

    def _unanswered(self, conn_id: str) -> None:
        """Only this client is sent to try again: an owner busy with a join burst is slow,
        not gone, and the lease watcher closes everyone once the owner is really gone."""
        self._node.awaiting.pop(conn_id, None)
        message = "owner %s did not answer a hello for room %s; that client reconnects"
        log.warning(message, self.owner, self.room_id, extra={"room": self.room_id})
        connection = self.connections.get(conn_id)
        if connection is not None:
            connection.close(p.CloseCode.SERVER_RESTART, "room moving; reconnect")

    async def handle(self, connection: Peer, command: p.Command) -> None:
        conn_id = self._node.conn_id(connection)
        if conn_id is not None:
            self.send(relay.ClientFrame(conn=conn_id, command=command))

    def leave(self, connection: Peer) -> None:
        conn_id = self._node.conn_id(connection)
        if conn_id is None:
            return
        self.connections.pop(conn_id, None)
        self._node.unregister(conn_id)
        self.send(relay.LeaveSocket(conn=conn_id))
        if not self.connections:
            self._node.drop_remote(self)

    async def request_export(self, format: str) -> tuple[bytes, str]:
        """The room's export as a file in `format`, and its name."""
        return await self._node.request_export(self, format)

    def send(self, message: relay.ToOwner) -> None:
        """Gathered per event-loop turn into one bus message, in order: under a storm, a
        relaying instance sends the owner a message per turn, not per slider move."""
        self._outgoing.append(message)
        if len(self._outgoing) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        items, self._outgoing = self._outgoing, []
        if items:
            batch = relay.RelayBatch(inst=self._node.instance_id, items=items)
            self._node.bus.publish(room_channel(self.room_id), batch.model_dump_json())

    async def _watch_owner(self) -> None:
        """If the owner's lease goes elsewhere (it died or stepped down), clients reconnect."""
        while True:
            await asyncio.sleep(OWNER_CHECK_SECONDS)
            try:
                holder = await self._node.bus.holder(lease_key(self.room_id))
            except Exception:
                holder = None
            if holder != self.owner:
                self.close_all()
                return

    def close_all(self) -> None:
        self._watcher.cancel()
        for conn_id in list(self.connections):
            self._node.answered(conn_id)
        for connection in list(self.connections.values()):
            connection.close(p.CloseCode.SERVER_RESTART, "room moving; reconnect")
        self._node.drop_remote(self)


class ClusterNode:
    """This instance's part: its channel, the rooms it relays, and export requests."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.instance_id = bus.instance_id
        self.remote_rooms: dict[str, RemoteRoom] = {}
        self._by_conn: dict[str, Peer] = {}
        self._conn_ids: dict[int, str] = {}
        self._exports: dict[str, asyncio.Future[relay.ExportReply]] = {}
        self.awaiting: dict[str, asyncio.TimerHandle] = {}
        self._requests = itertools.count(1)
        self._unsubscribe = bus.subscribe(instance_channel(self.instance_id), self._receive)

    def register(self, conn_id: str, connection: Peer) -> None:
        self._by_conn[conn_id] = connection
        self._conn_ids[id(connection)] = conn_id

    def unregister(self, conn_id: str) -> None:
        self.answered(conn_id)
        connection = self._by_conn.pop(conn_id, None)
        if connection is not None:
            self._conn_ids.pop(id(connection), None)

    def conn_id(self, connection: Peer) -> str | None:
        return self._conn_ids.get(id(connection))

    def answered(self, conn_id: str) -> None:
        """The owner answered this relayed client (or it left): no more waiting for it."""
        handle = self.awaiting.pop(conn_id, None)
        if handle is not None:
            handle.cancel()

    def drop_remote(self, room: RemoteRoom) -> None:
        if self.remote_rooms.get(room.room_id) is room:
            del self.remote_rooms[room.room_id]

    def _receive(self, raw: str) -> None:
        message = relay.read_to_relay(raw)
        match message:
            case relay.Deliver(batches=batches):
                for delivery in batches:
                    for conn_id in delivery.conns:
                        if self.awaiting:
                            self.answered(conn_id)
                        connection = self._by_conn.get(conn_id)
                        if connection is not None:
                            connection.send(delivery.frame)
            case relay.CloseSocket(conn=conn_id, code=code, reason=reason):
                self.answered(conn_id)
                closing = self._by_conn.get(conn_id)
                if closing is not None:
                    closing.close(code, reason)
            case relay.ExportReply(req=request_id):
                future = self._exports.pop(request_id, None)
                if future is not None and not future.done():
                    future.set_result(message)

    async def request_export(self, room: RemoteRoom, format: str) -> tuple[bytes, str]:
        """The owner's export of the room as a file, and its name: rendered by the owner, or
        by this instance from the JSON document an owner from before rendering sends."""
        request_id = f"{self.instance_id}-{next(self._requests)}"
        future: asyncio.Future[relay.ExportReply] = asyncio.get_running_loop().create_future()
        self._exports[request_id] = future
        room.send(relay.ExportRequest(req=request_id, format=format))
        try:
            async with asyncio.timeout(EXPORT_TIMEOUT_SECONDS):
                reply = await future
        finally:
            self._exports.pop(request_id, None)
        if reply.file_name is not None:
            return reply.body.encode(), reply.file_name
        # An owner of an older version: its document is raised to this version, as an import is.
        export = BoardExport.model_validate(upgrade(json.loads(reply.body)))
        render, _ = RENDERERS[format]
        return await asyncio.to_thread(render, export), file_name(export, format)

    def close_all(self) -> None:
        for room in list(self.remote_rooms.values()):
            room.close_all()

    def stop(self) -> None:
        self._unsubscribe()
        with contextlib.suppress(Exception):
            self.close_all()
