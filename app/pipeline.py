"""A room's command pipeline: the one owner of the way every command takes, from the typed
command to its acknowledgement.

    decided -> committed -> evolved -> published -> acknowledged

`decide` (app/board.py) refuses or turns the command into events without changing
anything; the events are committed to the store (app/writer.py) and only then evolve the
board, each with the room's next seq, and are published (the live room writes them to
the connections allowed to see them); the sender's ack carries the seq of its last event.
A command already applied is acknowledged again with its first seq and changes nothing.

Commands differ only in how they are committed, each kind by one of three strategies:

- `APPLY_NOW` (scores): a slider moves many times a second and a score is idempotent by
  value, so it evolves and is acknowledged at once, and is stored within a flush period in
  a batch (app/score_batches.py). The one exception to "acknowledged means stored",
  bounded by that period (docs/architecture.md).
- `GROUP_COMMIT` (new notes, newcomers): what arrives while one batch is stored goes in the
  next transaction (app/batching.py); each item is refused on its own.
- `ONE_BY_ONE` (every other command): decided and committed alone, under the room's lock.

The lock orders everything that commits: nothing is decided against a state that a commit
in flight will change. Knows the board, the writer and the store's row types; knows
nothing of sockets or audiences beyond handing the events on.
"""

from __future__ import annotations

import asyncio
import enum
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence

from app import metrics
from app import models as m
from app import protocol as p
from app.batching import GroupCommit
from app.board import Actor, Board, DomainError, Emitted, to_stored
from app.clock import now_utc
from app.score_batches import ScoreBatches
from app.settings import Settings
from app.store import StoredCommand
from app.tokens import hash_token
from app.writer import Commit, StoreWriter, WriteFailed

RECENT_SCORE_CIDS = 4096  # score commands are idempotent by value; this only saves work
ADMISSION_BATCH = 500  # newcomers stored in one transaction, at most
NOTE_BATCH = 200  # new notes stored in one transaction, at most


class Strategy(enum.Enum):
    APPLY_NOW = "apply now, store in the next score batch"
    GROUP_COMMIT = "store with whatever arrives meanwhile"
    ONE_BY_ONE = "store alone, under the room's lock"


# How each command is committed; a command not named here goes one by one.
STRATEGY_OF: dict[str, Strategy] = {
    "set_score": Strategy.APPLY_NOW,
    "add_note": Strategy.GROUP_COMMIT,
}

# A command to store: who, its client id (None for a join), the events it causes.
Change = tuple[Actor, str | None, list[Emitted]]

# What the live room does with each applied event (its seq given): deliver it to its audience.
Publish = Callable[[Emitted], None]


class Rejected(Exception):
    """A newcomer refused (a full room, a store that failed): the socket is closed with
    `close_code` after the error frame."""

    def __init__(self, error: p.Error, close_code: int) -> None:
        super().__init__(error.message)
        self.error = error
        self.close_code = close_code


class CommandPipeline:
    def __init__(
        self,
        board: Board,
        seq: int,
        applied: dict[tuple[str, str], int],
        writer: StoreWriter,
        settings: Settings,
        publish: Publish,
        admitted: Callable[[m.Participant], None],
    ) -> None:
        self.board = board
        self.seq = seq
        self.deleted = False
        self._applied = applied  # (actor id, cid) -> seq, for commands that were stored
        self._recent_score_cids: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._writer = writer
        self._settings = settings
        self._publish = publish
        self._admitted = admitted
        self._lock = asyncio.Lock()
        self._admissions = GroupCommit(self._admit, max_batch=ADMISSION_BATCH)
        self._new_notes = GroupCommit(self._add_notes, max_batch=NOTE_BATCH)
        self._scores = ScoreBatches(board.room_id, writer, settings.score_flush_seconds)

    # ------------------------------------------------------------ commands

    async def run(self, actor: Actor, command: p.Command) -> int:
        """Take the command its whole way; the seq to acknowledge it with, or DomainError."""
        strategy = STRATEGY_OF.get(command.type, Strategy.ONE_BY_ONE)
        if strategy is Strategy.APPLY_NOW:
            return self._apply_now(actor, command)  # no await: nothing interleaves
        seen = self._applied.get((actor.id, command.cid))
        if seen is not None:  # re-sent: it waits behind the first for nothing
            return seen
        if strategy is Strategy.GROUP_COMMIT:
            return await self._new_notes.submit((actor, command))
        return await self._one_by_one(actor, command)

    def _apply_now(self, actor: Actor, command: p.Command) -> int:
        key = (actor.id, command.cid)
        seen = self._recent_score_cids.get(key)
        if seen is not None:
            return seen
        self._apply(self.board.decide(command, actor, now_utc()), actor)
        self._recent_score_cids[key] = self.seq
        if len(self._recent_score_cids) > RECENT_SCORE_CIDS:
            self._recent_score_cids.popitem(last=False)
        return self.seq

    async def _one_by_one(self, actor: Actor, command: p.Command) -> int:
        async with self._lock:
            seen = self._applied.get((actor.id, command.cid))
            if seen is not None:
                return seen
            self._refuse_if_deleted()
            emitted = self.board.decide(command, actor, now_utc())
            (outcome,) = await self._commit([(actor, command.cid, emitted)])
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

    async def _add_notes(self, batch: list[tuple[Actor, p.Command]]) -> list[int | BaseException]:
        """New notes, as many as arrived together, in one transaction. Why: at conference
        size a note's fan-out alone takes tens of milliseconds, and notes stored one at a
        time (commit, then announce, then the next) queued without end at a few a second.
        Each is decided against the ones before it (their places are reserved on the board,
        in no view until applied); each fails on its own, or all do if the store fails."""
        async with self._lock:
            results: list[int | BaseException] = []
            decided: list[tuple[int, Change]] = []
            twins: dict[int, int] = {}  # a command re-sent within the batch -> the first's place
            first: dict[tuple[str, str], int] = {}
            for actor, command in batch:
                key = (actor.id, command.cid)
                seen = self._applied.get(key)
                if seen is not None:
                    results.append(seen)
                    continue
                if key in first:
                    twins[len(results)] = first[key]
                    results.append(0)
                    continue
                first[key] = len(results)
                try:
                    self._refuse_if_deleted()
                    emitted = self.board.decide(command, actor, now_utc())
                except DomainError as error:
                    if error.code is p.ErrorCode.LIMIT_REACHED:
                        metrics.limit_refused("notes")
                    results.append(error)
                    continue
                self.board.reserve(emitted)
                decided.append((len(results), (actor, command.cid, emitted)))
                results.append(0)  # its seq, once stored
            if decided:
                outcomes = await self._commit([change for _, change in decided])
                for (index, (_, _, emitted)), outcome in zip(decided, outcomes, strict=True):
                    if isinstance(outcome, BaseException):
                        self.board.release(emitted)
                    results[index] = outcome
            for twin, original in twins.items():
                results[twin] = results[original]
            return results

    def _refuse_if_deleted(self) -> None:
        if self.deleted:
            raise DomainError(p.ErrorCode.NOT_FOUND, "The room was deleted.")

    # ------------------------------------------------------------ newcomers

    async def admit(self, name: str | None) -> tuple[str, str]:
        """A new identity (id, token). Joins that arrive together are stored together."""
        return await self._admissions.submit(name)

    async def _admit(self, names: list[str | None]) -> list[tuple[str, str] | BaseException]:
        """One transaction for a batch of newcomers; each is refused on its own if the room
        is full, or if storing it failed."""
        async with self._lock:
            results: list[tuple[str, str] | BaseException] = []
            commits: list[tuple[int, Commit]] = []
            room_left = self._settings.max_participants_per_room - len(self.board.participants)
            for name in names:
                if len(commits) >= room_left:
                    metrics.limit_refused("participants")
                    error = p.Error(code=p.ErrorCode.LIMIT_REACHED, message="The room is full.")
                    results.append(Rejected(error, p.CloseCode.ROOM_FULL))
                    continue
                participant_id = "p_" + secrets.token_urlsafe(12)
                token = secrets.token_urlsafe(32)
                row = m.Participant(
                    id=participant_id,
                    room_id=self.board.room_id,
                    token_hash=hash_token(token),
                    name=name or None,
                    created_at=now_utc(),
                )
                actor = Actor("participant", participant_id)
                emitted = self.board.decide_join(participant_id, name)
                commits.append((len(results), self._admission(row, actor, emitted)))
                results.append((participant_id, token))
            if commits:
                outcomes = await self._writer.commit(self.board.room_id, [item for _, item in commits], self.seq)
                for (index, _), outcome in zip(commits, outcomes, strict=True):
                    if outcome is not None:
                        results[index] = self._refusal(outcome)
            return results

    def _admission(self, row: m.Participant, actor: Actor, emitted: list[Emitted]) -> Commit:
        def admit() -> None:
            self._admitted(row)
            self._apply(emitted, actor)

        return Commit([StoredCommand(actor.id, None, [item.event for item in emitted])], admit, (row,))

    # ------------------------------------------------------------ commit, evolve, publish

    async def _commit(self, changes: Sequence[Change]) -> list[int | BaseException]:
        """Store the commands' events (in one transaction, or each on its own if that fails),
        applying each as soon as it is stored: per command the seq of its last event, or why
        it was not stored."""
        seqs: dict[int, int] = {}

        def applier(index: int, actor: Actor, cid: str | None, emitted: list[Emitted]) -> Callable[[], None]:
            def apply() -> None:
                self._apply(emitted, actor)
                if cid is not None:
                    self._applied[(actor.id, cid)] = self.seq
                seqs[index] = self.seq

            return apply

        commits = [
            Commit([StoredCommand(actor.id, cid, [item.event for item in emitted])], applier(i, actor, cid, emitted))
            for i, (actor, cid, emitted) in enumerate(changes)
        ]
        outcomes = await self._writer.commit(self.board.room_id, commits, self.seq)
        return [seqs[i] if outcome is None else self._refusal(outcome) for i, outcome in enumerate(outcomes)]

    def _refusal(self, outcome: BaseException) -> BaseException:
        """What the sender hears when its change was not stored (the writer logged why)."""
        if isinstance(outcome, WriteFailed):
            return DomainError(p.ErrorCode.UNAVAILABLE, "Could not store that; try again.")
        return outcome  # applying failed after the commit: a bug, surfaced as it is

    def apply(self, emitted: list[Emitted], actor: Actor) -> None:
        """Evolve and publish events that need no commit of their own (the room's deletion,
        already stored by the caller)."""
        self._apply(emitted, actor)

    def _apply(self, emitted: list[Emitted], actor: Actor) -> None:
        for item in emitted:
            event = item.event
            self.seq += 1
            event.seq = self.seq
            self.board.evolve(event, actor)
            if isinstance(event, p.ScoreSet):
                row = (event.respondent_id or actor.id, event.round, event.kind, event.statement_id)
                self._scores.add(row, to_stored(event.value), event.seq)
            self._publish(item)

    # ------------------------------------------------------------ ending

    async def drain(self) -> None:
        """Store every score still pending (before unloading the room or stopping)."""
        await self._scores.drain()

    def discard(self) -> None:
        """The room is deleted: nothing pending is worth storing, nothing more is taken."""
        self.deleted = True
        self._scores.discard()

    def stop(self) -> None:
        self._scores.stop()
