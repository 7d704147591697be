"""A small Python client for the live protocol, used by the tests and the benchmark, and an
example for anyone writing a client of their own (see docs/protocol.md).

It keeps what a real client keeps: the identity token, the epoch and the last seq seen (to
resume), the notes, settings and participants (applying events in order, as the browser's
frontend/js/state.js does) and the latest spectrum.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Message = dict[str, Any]

# The keys every event carries besides what it says.
EVENT_ENVELOPE = frozenset({"type", "seq"})


class CommandFailed(Exception):
    def __init__(self, error: Message) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code: str = error.get("code", "")
        self.error = error


class RoomClient:
    def __init__(self, base_url: str, room_id: str, token: str | None = None, deflate: bool = False) -> None:
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/")
        self.url += f"/ws/rooms/{room_id}"
        self.token = token
        self.deflate = deflate  # offer permessage-deflate (the server decides)
        self.epoch: str | None = None
        self.last_seq: int | None = None
        self.role: str | None = None
        self.participant_id: str | None = None
        self.notes: dict[str, Message] = {}
        self.spectrum: Message | None = None
        self.settings: Message = {}
        self.participants: dict[str, Message] = {}
        self.messages: list[Message] = []
        self.welcome: Message | None = None
        self.close_code: int | None = None
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._cids = itertools.count(1)
        self._cid_prefix = ""

    # ------------------------------------------------------------ connection

    async def connect(
        self, name: str | None = None, resume: bool = True, timeout: float = 10, screen: bool = False
    ) -> Message:
        """Open the socket and say hello; resumes from the last seq when it has one. `screen`
        opens a read-only view (no identity), as the projector does."""
        compression = "deflate" if self.deflate else None
        self._socket = await connect(self.url, max_size=None, compression=compression, open_timeout=timeout)
        hello: Message = {"type": "hello", "token": self.token}
        if name is not None:
            hello["name"] = name
        if screen:
            hello["screen"] = True
        if resume and self.epoch is not None:
            hello.update(epoch=self.epoch, last_seq=self.last_seq)
        self.close_code = None
        self.welcome = None
        since = len(self.messages)
        self._reader = asyncio.create_task(self._read(self._socket))
        try:
            await self._socket.send(json.dumps(hello))
        except ConnectionClosed as closed:
            # Refused before our hello went out (no such room, busy): report the server's reason.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, timeout)
            refusal = next((m for m in self.messages[since:] if m["type"] == "error"), None)
            if refusal is not None:
                raise CommandFailed(refusal) from closed
            raise ConnectionError(f"closed before hello ({self.close_code})") from closed
        welcome = await self.wait_for(lambda m: m["type"] in {"welcome", "error"}, timeout, since)
        if welcome["type"] == "error":
            raise CommandFailed(welcome)
        return welcome

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)

    async def drop(self) -> None:
        """Cut the connection without a closing handshake, as a lost network would."""
        if self._socket is not None:
            self._socket.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)

    async def send_raw(self, frame: str | bytes) -> None:
        assert self._socket is not None, "connect first"
        await self._socket.send(frame)

    # ------------------------------------------------------------ commands

    def new_cid(self) -> str:
        if not self._cid_prefix:
            # Random, so a new client object for an old identity never reuses stored cids.
            self._cid_prefix = f"c{secrets.token_hex(6)}-"
        return f"{self._cid_prefix}{next(self._cids)}"

    async def send(self, command: Message) -> str:
        """Send a command without waiting; returns its cid."""
        command = dict(command)
        command.setdefault("cid", self.new_cid())
        await self.send_raw(json.dumps(command))
        return str(command["cid"])

    async def command(self, type_: str, timeout: float = 10, **fields: Any) -> Message:
        """Send a command and wait for its ack; a refusal raises CommandFailed."""
        cid = fields.pop("cid", None) or self.new_cid()
        await self.send({"type": type_, "cid": cid, **fields})
        reply = await self.wait_for(lambda m: m.get("cid") == cid and m["type"] in {"ack", "error"}, timeout)
        if reply["type"] == "error":
            raise CommandFailed(reply)
        return reply

    # ------------------------------------------------------------ receiving

    async def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 10, since: int = 0) -> Message:
        """The first matching message from index `since` on (received or still to come)."""
        start = since
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for message in self.messages[start:]:
                    if predicate(message):
                        return message
                start = len(self.messages)
                if self._reader is not None and self._reader.done():
                    raise ConnectionError(f"socket closed ({self.close_code}) while waiting")
                await self._changed.wait()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until the client's own view satisfies `condition`."""
        async with asyncio.timeout(timeout), self._changed:
            while not condition():
                if self._reader is not None and self._reader.done():
                    raise ConnectionError(f"socket closed ({self.close_code}) while waiting")
                await self._changed.wait()

    async def _read(self, socket: ClientConnection) -> None:
        try:
            async for frame in socket:
                message = json.loads(frame)
                self._apply(message)
                async with self._changed:
                    self.messages.append(message)
                    self._changed.notify_all()
        except Exception:  # noqa: S110 - a dropped connection ends the reader; close_code says why
            pass
        finally:
            self.close_code = socket.close_code
            async with self._changed:
                self._changed.notify_all()

    def _apply(self, message: Message) -> None:
        kind = message["type"]
        if kind == "welcome":
            self.welcome = message
            self.epoch = message["epoch"]
            you = message["you"]
            self.role, self.participant_id = you["role"], you["participant_id"]
            self.token = you.get("token") or self.token
            if message["snapshot"] is not None:
                snapshot = message["snapshot"]
                self.notes = {note["id"]: note for note in snapshot["notes"]}
                self.spectrum = snapshot["spectrum"]
                self.settings = snapshot["settings"]
                # .get: the benchmark's floor server sends only what it needs.
                self.participants = {person["id"]: person for person in snapshot.get("participants", [])}
                self.last_seq = message["seq"]
            for event in message["events"] or []:
                self._apply(event)
            self.last_seq = max(self.last_seq or 0, message["seq"])
            return
        if kind == "spectrum":
            self.spectrum = message
            return
        seq = message.get("seq")
        if isinstance(seq, int) and kind != "spectrum":
            self.last_seq = max(self.last_seq or 0, seq)
        if kind in {"note_added", "note_updated"}:
            self.notes[message["note"]["id"]] = message["note"]
        elif kind == "note_deleted":
            self.notes.pop(message["note_id"], None)
        elif kind == "phase_changed":
            self.settings["phase"] = message["phase"]
        elif kind == "results_visibility":
            self.settings["results_visible"] = message["visible"]
        elif kind == "voting_locked":
            self.settings["voting_locked"] = message["locked"]
        elif kind == "timer_changed":
            self.settings["timer_ends_at"] = message["ends_at"]
        elif kind == "room_updated":
            # The event is the whole configuration as it is now (docs/protocol.md), so every
            # field but the envelope is a setting: a new one arrives without an edit here.
            self.settings.update((key, value) for key, value in message.items() if key not in EVENT_ENVELOPE)
        elif kind == "round_started":
            self.settings["round"] = message["round"]
        elif kind in {"participant_joined", "participant_updated"}:
            person = message["participant"]
            self.participants[person["id"]] = person
            # Notes show the author's name as it is now.
            for note_id, note in self.notes.items():
                if note["author_id"] == person["id"]:
                    self.notes[note_id] = {**note, "author_name": person["name"]}
