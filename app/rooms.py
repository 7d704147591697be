"""The rooms this process serves: the ones it owns (loaded on first use, unloaded when
idle) and the ones another instance owns, which it relays (app/cluster.py).

One load per room at a time (a lock per room id), so two first visitors never build two
boards for the same room; one owner per room across instances (a lease on the bus).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from functools import partial
from typing import Literal

from app import metrics
from app.bus import Bus
from app.clock import as_utc, now_utc
from app.cluster import OWNER_LEASE_MS, ClusterNode, RemoteRoom, RoomHost, Unavailable, lease_key, room_channel
from app.export_answers import seal_answers
from app.protocol import CloseCode
from app.relay import DeleteRoom, RelayBatch, RevokeAccess
from app.room import LiveRoom
from app.rows import board_of
from app.sealing import Sealer
from app.settings import Settings
from app.store import Store
from app.text import is_room_id
from app.writer import StoreWriter

log = logging.getLogger(__name__)

# Whether a room's pages are served (app/pages.py): it is there, it has expired (its rows
# wait for the sweeper), or nothing is known of it.
RoomStanding = Literal["live", "expired", "unknown"]


class RoomRegistry:
    def __init__(self, store: Store, writer: StoreWriter, bus: Bus, settings: Settings, sealer: Sealer) -> None:
        self._store = store
        self._writer = writer
        self._sealer = sealer
        self._bus = bus
        self._settings = settings
        self._rooms: dict[str, LiveRoom] = {}
        self._hosts: dict[str, RoomHost] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._unload_handles: dict[str, asyncio.TimerHandle] = {}
        self.node = ClusterNode(bus)
        bus.on_connection_change(self._bus_changed)

    async def get(self, room_id: str) -> LiveRoom | RemoteRoom | None:
        """The room as this instance serves it: owned (loaded from the store if needed) or
        relayed to its owner; None if it does not exist. Raises Unavailable without a bus."""
        room = self._rooms.get(room_id)
        if room is not None:
            self._cancel_unload(room_id)
            return room
        remote = self.node.remote_rooms.get(room_id)
        if remote is not None:
            return remote
        if not self._bus.connected:
            raise Unavailable
        lock = self._loading.setdefault(room_id, asyncio.Lock())
        async with lock:
            owned = self._rooms.get(room_id)
            if owned is not None:
                self._cancel_unload(room_id)
                return owned
            leased_at = time.monotonic()
            try:
                holder = await self._bus.acquire(lease_key(room_id), OWNER_LEASE_MS)
            except Exception as error:
                raise Unavailable from error
            if holder != self._bus.instance_id:
                remote = self.node.remote_rooms.get(room_id) or RemoteRoom(room_id, holder, self.node)
                self.node.remote_rooms[room_id] = remote
                return remote
            metrics.lease_changed("gained")
            room = await asyncio.to_thread(self._load, room_id)
            if room is None:
                self._loading.pop(room_id, None)
                await self._bus.release(lease_key(room_id))
                metrics.lease_changed("released")
                return None
            room.on_empty = self._schedule_unload
            self._rooms[room_id] = room
            self._hosts[room_id] = RoomHost(room, self._bus, self._lost, leased_at)
        self._cancel_unload(room_id)
        return room

    async def standing(self, room_id: str) -> RoomStanding:
        """How the room stands, as the socket would find it, for its pages: a link to a room
        that is gone answers 404 or 410 instead of a page that only then learns it from the
        socket. `unknown` covers a room never made, a deleted one and an expired one the
        sweeper has removed: a deleted room leaves no row to tell them apart.

        Cheap, since every visit asks: an id of no room's shape costs no query (and could
        not even be sent to PostgreSQL if it holds a NUL), a room this instance serves from
        memory costs none either (a workshop's participants opening the link), and any other
        costs one key lookup of one column."""
        if not is_room_id(room_id):
            return "unknown"
        held = self._rooms.get(room_id)
        if held is not None and not held.deleted:
            return "live"
        expires_at = await asyncio.to_thread(self._store.room_expiry, room_id)
        if expires_at is None:
            return "unknown"
        return "live" if as_utc(expires_at) > now_utc() else "expired"

    def census(self) -> metrics.Census:
        """What this instance holds now, for a scrape of /metrics (on the loop)."""
        by_role: dict[str, int] = {}
        online = 0
        for room in self._rooms.values():
            online += room.online_participants
            for connection in room.connections:
                by_role[connection.role] = by_role.get(connection.role, 0) + 1
        relayed = sum(len(remote.connections) for remote in self.node.remote_rooms.values())
        return metrics.Census(len(self._rooms), by_role, online, relayed, self._bus.connected)

    def _load(self, room_id: str) -> LiveRoom | None:
        stored = self._store.load_room(room_id)
        if stored is None or as_utc(stored.room.expires_at) <= now_utc():
            return None
        return LiveRoom(
            board=board_of(stored, self._settings.max_notes_per_room),
            seq=stored.room.seq,
            facilitator_token_hash=stored.room.facilitator_token_hash,
            participant_tokens={person.token_hash: person.id for person in stored.participants},
            applied=stored.applied,
            writer=self._writer,
            settings=self._settings,
            seal_answers=partial(seal_answers, self._sealer, room_id, stored.room.facilitator_token_hash),
            co_facilitator_of=lambda token_hash: asyncio.to_thread(
                self._store.use_co_facilitator, room_id, token_hash, now_utc()
            ),
        )

    # ------------------------------------------------------------ unloading

    def _schedule_unload(self, room: LiveRoom) -> None:
        self._cancel_unload(room.room_id)
        loop = asyncio.get_running_loop()
        self._unload_handles[room.room_id] = loop.call_later(
            self._settings.room_idle_unload_seconds,
            lambda: loop.create_task(self._unload_if_idle(room)),
        )

    def _cancel_unload(self, room_id: str) -> None:
        handle = self._unload_handles.pop(room_id, None)
        if handle is not None:
            handle.cancel()

    async def _unload_if_idle(self, room: LiveRoom) -> None:
        self._unload_handles.pop(room.room_id, None)
        await room.drain()
        if not room.connections and self._rooms.get(room.room_id) is room:
            await self._forget(room, release=True)

    async def _forget(self, room: LiveRoom, release: bool, lost: bool = False) -> None:
        room.stop()
        if self._rooms.get(room.room_id) is room:
            del self._rooms[room.room_id]
        self._loading.pop(room.room_id, None)
        host = self._hosts.pop(room.room_id, None)
        if host is not None:
            metrics.lease_changed("lost" if lost else "released")
            await host.stop(release=release)

    async def _lost(self, host: RoomHost) -> None:
        """Our lease is gone (Redis lost it, or we could not renew in time): step down now,
        before another instance may take over; clients reconnect to whoever owns it next."""
        room = host.room
        room.close_all(CloseCode.SERVER_RESTART, "room moving; reconnect")
        with contextlib.suppress(Exception):
            await room.drain()
        # Give the lease back if it is still ours (Redis may be back, or never left): the
        # next instance to get a client takes the room at once instead of waiting it out.
        with contextlib.suppress(Exception):
            await self._forget(room, release=True, lost=True)

    def _bus_changed(self, connected: bool) -> None:
        if connected:
            return
        for host in list(self._hosts.values()):
            asyncio.get_running_loop().create_task(self._lost(host))
        self.node.close_all()

    # ------------------------------------------------------------ deleting and stopping

    async def delete(self, room_id: str) -> bool:
        """Delete a room everywhere: clients are told and closed, then its rows removed."""
        self._cancel_unload(room_id)
        room = self._rooms.get(room_id)
        if room is not None:
            room.mark_deleted()
            await self._forget(room, release=True)
        else:
            # Whichever instance owns it tells its clients.
            self._bus.publish(room_channel(room_id), RelayBatch(inst="", items=[DeleteRoom()]).model_dump_json())
        return await asyncio.to_thread(self._store.delete_room, room_id)

    def revoke_co_facilitator(self, room_id: str, co_facilitator_id: str) -> None:
        """Close a revoked co-facilitator key's consoles, wherever the room is owned (its
        row is gone from the store already, so no later hello gets in). The same path as a
        deletion: the owner hears it on the room's channel and closes relayed sockets
        through their instances."""
        room = self._rooms.get(room_id)
        if room is not None:
            room.revoke(co_facilitator_id)
        else:
            message = RelayBatch(inst="", items=[RevokeAccess(co_facilitator=co_facilitator_id)])
            self._bus.publish(room_channel(room_id), message.model_dump_json())

    async def delete_expired(self, now: datetime) -> int:
        expired = await asyncio.to_thread(self._store.expired_room_ids, now)
        for room_id in expired:
            await self.delete(room_id)
        return len(expired)

    async def shutdown(self) -> None:
        """Store what is pending and tell clients to reconnect (the server is restarting)."""
        for room in list(self._rooms.values()):
            with contextlib.suppress(Exception):
                await room.drain()
            room.close_all(CloseCode.SERVER_RESTART, "server restarting; reconnect")
            with contextlib.suppress(Exception):
                await self._forget(room, release=True)
        for handle in self._unload_handles.values():
            handle.cancel()
        self._unload_handles.clear()
        self.node.stop()
