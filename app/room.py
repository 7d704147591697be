"""A live room in this process: who is connected and may see what, the replay buffer, the
coalesced spectrum ticks, and delivery.

The rules live in app/board.py, the figures in app/figures.py, a command's way from decide
to ack in app/pipeline.py; this module identifies connections, hands their commands to the
pipeline, and delivers what it publishes. State changes happen synchronously between
awaits, so nothing interleaves half-way.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable

from app import metrics
from app import models as m
from app import protocol as p
from app.board import EVERYONE, FACILITATOR_ID, Actor, Audience, Board, DomainError, Emitted
from app.clock import now_utc
from app.connection import Peer
from app.figures import spectrum
from app.pipeline import CommandPipeline, Rejected
from app.settings import Settings
from app.snapshot import BoardExport, SealAnswers, snapshot
from app.tokens import hash_token
from app.writer import StoreWriter

log = logging.getLogger(__name__)

__all__ = ["CoFacilitatorLookup", "LiveRoom", "Rejected"]

# A co-facilitator key's id by its token hash, from the store (None: no such key, or revoked).
CoFacilitatorLookup = Callable[[str], Awaitable[str | None]]

# A replayable event as the frame that went out: (seq, everyone, facilitators, participant
# id, frame). A plain tuple of ints, bools and strings on purpose: the collector stops
# tracking it at once, whereas kept event models, thousands a second under load, were what
# drove its full passes (100+ ms pauses, docs/performance.md).
Replayable = tuple[int, bool, bool, str | None, str]


class LiveRoom:
    def __init__(
        self,
        board: Board,
        seq: int,
        facilitator_token_hash: str,
        participant_tokens: dict[str, str],
        applied: dict[tuple[str, str], int],
        writer: StoreWriter,
        settings: Settings,
        seal_answers: SealAnswers,
        co_facilitator_of: CoFacilitatorLookup | None = None,
    ) -> None:
        self.board = board
        self.room_id = board.room_id
        self.pipeline = CommandPipeline(board, seq, applied, writer, settings, self._publish, self._admitted)
        # A new epoch per load: a client resuming from another epoch gets a snapshot.
        self.epoch = secrets.token_hex(8)
        self._facilitator_token_hash = facilitator_token_hash
        self._participant_tokens = participant_tokens  # token hash -> participant id
        # Co-facilitator keys are looked up in the store at every hello, never kept here: a
        # key revoked through another instance is refused without this one hearing of it.
        self._co_facilitator_of = co_facilitator_of
        self._co_facilitator_peers: dict[str, set[Peer]] = {}  # key id -> its open consoles
        self._revoked: set[str] = set()  # keys revoked while this room was loaded
        self._revoked_peers: set[Peer] = set()  # closed for a revoked key, not yet gone
        self._settings = settings
        self._seal_answers = seal_answers
        self._replay: deque[Replayable] = deque(maxlen=settings.replay_events)
        self.connections: set[Peer] = set()
        self._facilitators: set[Peer] = set()
        self._screens: set[Peer] = set()
        self._by_participant: dict[str, set[Peer]] = {}
        self._last_score_seq = seq
        self._tick_handle: asyncio.TimerHandle | None = None
        self._spectrum_dirty = False
        self._presence_dirty = False
        self._last_tick = 0.0
        self.on_empty: Callable[[LiveRoom], None] | None = None

    @property
    def seq(self) -> int:
        """The seq of the last event applied; the pipeline gives each its own."""
        return self.pipeline.seq

    @property
    def deleted(self) -> bool:
        return self.pipeline.deleted

    # ------------------------------------------------------------ joining

    async def join(self, connection: Peer, hello: p.Hello) -> None:
        """Identify the client, then send its welcome and start delivering to it."""
        if self.deleted:
            raise Rejected(
                p.Error(code=p.ErrorCode.NOT_FOUND, message="The room was deleted."),
                p.CloseCode.ROOM_DELETED,
            )
        token: str | None = None
        participant_id: str | None
        role: p.Role = "participant"
        co_facilitator: str | None = None
        if hello.screen:
            role, participant_id = "screen", None
        elif hello.token is None:
            try:
                participant_id, token = await self._create_participant(hello.name)
            except DomainError as error:  # could not be stored: the client retries
                raise Rejected(p.Error(code=error.code, message=error.message), p.CloseCode.SERVER_RESTART) from error
        else:
            known = self._authenticate(hello.token)
            if known is None:  # neither the facilitator's nor a participant's: a co-facilitator's?
                role, participant_id = "facilitator", None
                co_facilitator = await self._authenticate_co_facilitator(hello.token)
            else:
                role, participant_id = known
        connection.identify(role, participant_id)
        welcome = self._welcome(connection, hello, token, co_facilitator is not None)
        connection.send(welcome.model_dump_json())
        if welcome.snapshot is None:
            # Replayed events say what changed, not what the figures are now.
            full = self.board.flow.results_visible
            connection.send(spectrum(self.board, self._last_score_seq, full).model_dump_json())
        self._register(connection)
        if co_facilitator is not None:
            self._co_facilitator_peers.setdefault(co_facilitator, set()).add(connection)

    def _authenticate(self, token: str) -> tuple[p.Role, str | None] | None:
        """The facilitator or a participant, from memory; None for neither (the token may
        still be a co-facilitator's, which only the store can say)."""
        token_hash = hash_token(token)
        if hmac.compare_digest(token_hash, self._facilitator_token_hash):
            return "facilitator", None
        participant_id = self._participant_tokens.get(token_hash)
        if participant_id is None:
            return None
        return "participant", participant_id

    async def _authenticate_co_facilitator(self, token: str) -> str:
        """The id of the co-facilitator key `token` is, asked of the store; refused if it is
        none, or was revoked while the store was being asked (the revocation reached this
        room before the answer did)."""
        unknown = Rejected(
            p.Error(code=p.ErrorCode.UNAUTHORIZED, message="Unknown token for this room."),
            p.CloseCode.UNAUTHORIZED,
        )
        if self._co_facilitator_of is None:
            raise unknown
        try:
            key = await self._co_facilitator_of(hash_token(token))
        except Exception as error:  # the store is away: the client retries
            log.exception("could not check a co-facilitator key")
            error_frame = p.Error(code=p.ErrorCode.UNAVAILABLE, message="Try again in a moment.")
            raise Rejected(error_frame, p.CloseCode.SERVER_RESTART) from error
        if self.deleted:
            raise Rejected(
                p.Error(code=p.ErrorCode.NOT_FOUND, message="The room was deleted."),
                p.CloseCode.ROOM_DELETED,
            )
        if key is None or key in self._revoked:
            raise unknown
        return key

    async def _create_participant(self, name: str | None) -> tuple[str, str]:
        """A new identity (id, token). Joins that arrive together are stored together."""
        return await self.pipeline.admit(name)

    def _admitted(self, row: m.Participant) -> None:
        self._participant_tokens[row.token_hash] = row.id

    def _welcome(self, connection: Peer, hello: p.Hello, token: str | None, co_facilitator: bool) -> p.Welcome:
        role, participant_id = connection.role, connection.participant_id
        participant = self.board.participants.get(participant_id or "")
        you = p.You(
            role=role,
            participant_id=participant_id,
            token=token,
            name=participant.name if participant else None,
            group=participant.group if participant else None,
            co_facilitator=co_facilitator,
            group_fixed=participant_id in self.board.has_answered,
        )
        events = self._missed_events(hello, role, participant_id)
        return p.Welcome(
            protocol=hello.protocol,
            epoch=self.epoch,
            seq=self.seq,
            server_time=now_utc(),
            you=you,
            snapshot=None if events is not None else self.snapshot(role, participant_id),
            events=events,
        )

    def _missed_events(
        self, hello: p.Hello, role: p.Role, participant_id: str | None
    ) -> list[dict[str, object]] | None:
        """The events after `last_seq` this client may see, or None when a snapshot is due."""
        last_seq = hello.last_seq
        if hello.epoch != self.epoch or last_seq is None or last_seq > self.seq:
            return None
        oldest = self._replay[0][0] if self._replay else self.seq + 1
        if last_seq < oldest - 1:
            return None  # too far behind: what it missed has left the buffer
        return [
            json.loads(frame)
            for seq, everyone, facilitators, only, frame in self._replay
            if seq > last_seq and Audience(everyone, facilitators, only).includes(role, participant_id)
        ]

    def snapshot(self, role: p.Role, participant_id: str | None) -> p.Snapshot:
        board = self.board
        full = board.flow.results_visible
        me = participant_id or (FACILITATOR_ID if role == "facilitator" else "")
        if role == "facilitator":
            people = [p.ParticipantPublic(id=x.id, name=x.name, group=x.group) for x in board.participants.values()]
        else:
            # Only yourself: others' names reach a participant or a screen on their notes.
            people = [
                p.ParticipantPublic(id=x.id, name=x.name, group=x.group)
                for x in board.participants.values()
                if x.id == participant_id
            ]
        return p.Snapshot(
            room_id=self.room_id,
            settings=board.settings(),
            template=board.template,
            notes=[board.public_note(note) for note in board.ordered_notes()],
            my_votes=[note.id for note in board.notes.values() if me in note.voters],
            my_scores=board.my_scores(participant_id) if participant_id else {},
            my_previous_scores=board.my_scores(participant_id, board.flow.round - 1)
            if participant_id and board.flow.round > 1
            else {},
            my_desired_scores=board.my_scores(participant_id, kind="desired") if participant_id else {},
            participants=people,
            online=self.online_participants,
            spectrum=spectrum(board, self._last_score_seq, full),
        )

    def _register(self, connection: Peer) -> None:
        self.connections.add(connection)
        if connection.role == "facilitator":
            self._facilitators.add(connection)
        elif connection.role == "screen":
            self._screens.add(connection)
        elif connection.participant_id is not None:
            self._by_participant.setdefault(connection.participant_id, set()).add(connection)
        self._presence_changed()

    def leave(self, connection: Peer) -> None:
        self._revoked_peers.discard(connection)
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        self._facilitators.discard(connection)
        self._screens.discard(connection)
        if self._co_facilitator_peers:
            for key, consoles in list(self._co_facilitator_peers.items()):
                consoles.discard(connection)
                if not consoles:
                    del self._co_facilitator_peers[key]
        if connection.participant_id is not None:
            mine = self._by_participant.get(connection.participant_id)
            if mine is not None:
                mine.discard(connection)
                if not mine:
                    del self._by_participant[connection.participant_id]
        self._presence_changed()
        if not self.connections and self.on_empty is not None:
            self.on_empty(self)

    @property
    def online_participants(self) -> int:
        return len(self._by_participant)

    # ------------------------------------------------------------ commands

    async def handle(self, connection: Peer, command: p.Command) -> None:
        """Hand the command to the pipeline; the sender hears its ack, or why not."""
        if self._revoked_peers and connection in self._revoked_peers:
            return  # its key was revoked: what it sent before the close arrived is dropped
        actor = Actor(connection.role, connection.participant_id)
        try:
            seq = await self.pipeline.run(actor, command)
        except DomainError as error:
            connection.send(p.Error(code=error.code, message=error.message, cid=command.cid).model_dump_json())
            return
        connection.send(p.Ack(cid=command.cid, seq=seq).model_dump_json())

    # ------------------------------------------------------------ delivery

    def _publish(self, emitted: Emitted) -> None:
        """An event the pipeline applied: kept for replay, and delivered."""
        event, audience = emitted
        if isinstance(event, p.ScoreSet):
            self._last_score_seq = event.seq
            self._spectrum_changed()
        elif isinstance(event, p.ResultsVisibility | p.RoomUpdated | p.RoundStarted):
            self._spectrum_changed()
        frame = event.model_dump_json()
        self._replay.append((event.seq, audience.everyone, audience.facilitators, audience.participant_id, frame))
        self._deliver(event, frame, audience)

    def _deliver(self, event: p.Event, frame: str, audience: Audience) -> None:
        """Hand the one serialised frame to every connection that may see it."""
        if audience.everyone:
            targets: set[Peer] | list[Peer] = self.connections
        else:
            targets = list(self._facilitators) if audience.facilitators else []
            if audience.participant_id is not None:
                targets.extend(self._by_participant.get(audience.participant_id, ()))
        for connection in targets:
            connection.send(frame)
        metrics.events_sent(event.type, len(targets))
        if isinstance(event, p.RoomDeleted):
            for connection in list(self.connections):
                connection.close(p.CloseCode.ROOM_DELETED, "room deleted")

    def _spectrum_changed(self) -> None:
        self._spectrum_dirty = True
        self._schedule_tick()

    def _presence_changed(self) -> None:
        self._presence_dirty = True
        self._schedule_tick()

    def _schedule_tick(self) -> None:
        if self._tick_handle is not None:
            return
        interval = 1.0 / self._settings.spectrum_hz
        delay = max(0.0, self._last_tick + interval - time.monotonic())
        self._tick_handle = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        """At most `spectrum_hz` times a second: one frame per audience, not per change."""
        self._tick_handle = None
        self._last_tick = time.monotonic()
        if self._spectrum_dirty:
            started = time.perf_counter()
            self._spectrum_dirty = False
            # Everyone, the facilitators too, sees figures only once they are revealed: until
            # then nothing is released, so the reveal shows every answer at once and no
            # frame before it can be compared with it (docs/insight.md).
            shown = spectrum(self.board, self._last_score_seq, full=self.board.flow.results_visible)
            encoded = shown.model_dump_json()
            for connection in self.connections:
                connection.send(encoded)
            metrics.events_sent(shown.type, len(self.connections))
            metrics.spectrum_tick(time.perf_counter() - started)
        if self._presence_dirty:
            self._presence_dirty = False
            frame = p.Presence(
                online=self.online_participants,
                participants=len(self.board.participants),
                consoles=len(self._facilitators),
                screens=len(self._screens),
            ).model_dump_json()
            for connection in self.connections:
                connection.send(frame)
            metrics.events_sent("presence", len(self.connections))

    async def drain(self) -> None:
        """Store everything pending (before unloading the room or stopping the server)."""
        await self.pipeline.drain()

    def export(self) -> BoardExport:
        """The board as it is now, in one synchronous step: one consistent seq."""
        # A file is a disclosure too: a round nobody has seen yet is released whole first.
        self.board.disclose_rounds(self.board.flow.round)
        return snapshot(self.board, self.seq, now_utc(), self._seal_answers)

    # ------------------------------------------------------------ ending

    def mark_deleted(self) -> None:
        """Tell every client the room is gone and close their sockets."""
        self.pipeline.discard()
        self.pipeline.apply([Emitted(p.RoomDeleted(), EVERYONE)], Actor("facilitator", None))
        self.stop()

    def revoke(self, co_facilitator_id: str) -> None:
        """A co-facilitator key was revoked (its row is already gone from the store): close
        its consoles at once, here or relayed, and refuse a hello the store let through
        before the revocation."""
        self._revoked.add(co_facilitator_id)
        for connection in list(self._co_facilitator_peers.pop(co_facilitator_id, ())):
            self.leave(connection)
            self._revoked_peers.add(connection)
            connection.close(p.CloseCode.ACCESS_REVOKED, "access revoked")

    def close_all(self, code: int, reason: str) -> None:
        for connection in list(self.connections):
            connection.close(code, reason)

    def stop(self) -> None:
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        self.pipeline.stop()
