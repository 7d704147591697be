"""The rooms this process holds in memory: loaded on first use, unloaded when idle.

One load per room at a time (a lock per room id), so two first visitors never build two
boards for the same room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from app.aggregates import AggregateKey
from app.board import Board, Note, Participant
from app.bus import Bus
from app.protocol import CloseCode
from app.room import LiveRoom, now_utc
from app.settings import Settings
from app.store import Store, as_utc

log = logging.getLogger(__name__)


class RoomRegistry:
    def __init__(self, store: Store, bus: Bus, settings: Settings) -> None:
        self._store = store
        self._bus = bus
        self._settings = settings
        self._rooms: dict[str, LiveRoom] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._unload_handles: dict[str, asyncio.TimerHandle] = {}

    @property
    def loaded(self) -> dict[str, LiveRoom]:
        return self._rooms

    async def get(self, room_id: str) -> LiveRoom | None:
        """The live room, loading it from the store if needed; None if it does not exist."""
        room = self._rooms.get(room_id)
        if room is not None:
            self._cancel_unload(room_id)
            return room
        lock = self._loading.setdefault(room_id, asyncio.Lock())
        async with lock:
            room = self._rooms.get(room_id)
            if room is None:
                room = await asyncio.to_thread(self._load, room_id)
                if room is None:
                    self._loading.pop(room_id, None)
                    return None
                room.on_empty = self._schedule_unload
                self._rooms[room_id] = room
        self._cancel_unload(room_id)
        return room

    def _load(self, room_id: str) -> LiveRoom | None:
        stored = self._store.load_room(room_id)
        if stored is None or as_utc(stored.room.expires_at) <= now_utc():
            return None
        row = stored.room
        board = Board(
            room_id=row.id,
            template=stored.template,
            title=row.title,
            language=row.language,  # type: ignore[arg-type]
            created_at=as_utc(row.created_at),
            expires_at=as_utc(row.expires_at),
            phase=row.phase,  # type: ignore[arg-type]
            results_visible=row.results_visible,
            voting_locked=row.voting_locked,
            timer_ends_at=as_utc(row.timer_ends_at) if row.timer_ends_at else None,
            groups=stored.groups,
            round=row.round,
            join_code=row.join_code,
            max_notes=self._settings.max_notes_per_room,
        )
        for person in stored.participants:
            board.participants[person.id] = Participant(person.id, person.name, person.group)
        voters: dict[str, set[str]] = {}
        for vote in stored.votes:
            voters.setdefault(vote.note_id, set()).add(vote.voter_id)
        for note in stored.notes:
            board.notes[note.id] = Note(
                id=note.id,
                area_id=note.area_id,
                text=note.text,
                color=note.color,  # type: ignore[arg-type]
                author_id=note.author_id,
                position=note.position,
                created_at=as_utc(note.created_at),
                updated_at=as_utc(note.updated_at),
                version=note.version,
                voters=voters.get(note.id, set()),
            )
        for score in stored.scores:
            key = AggregateKey(score.round, score.kind, score.statement_id)
            board.load_score(score.participant_id, key, score.value)
        return LiveRoom(
            board=board,
            seq=row.seq,
            facilitator_token_hash=row.facilitator_token_hash,
            participant_tokens={person.token_hash: person.id for person in stored.participants},
            applied=stored.applied,
            store=self._store,
            bus=self._bus,
            settings=self._settings,
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
            room.stop()
            del self._rooms[room.room_id]
            self._loading.pop(room.room_id, None)

    # ------------------------------------------------------------ deleting and stopping

    async def delete(self, room_id: str) -> bool:
        """Delete a room everywhere: clients are told and closed, then its rows removed."""
        room = self._rooms.pop(room_id, None)
        self._cancel_unload(room_id)
        if room is not None:
            room.mark_deleted()
        return await asyncio.to_thread(self._store.delete_room, room_id)

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
            room.stop()
        for handle in self._unload_handles.values():
            handle.cancel()
        self._unload_handles.clear()
        self._rooms.clear()
