"""A room's state and its rules: pure, synchronous, no asyncio, no I/O, no FastAPI.

Commands are handled in two steps, as in event sourcing: `decide` checks a command against
the state and the actor's role and returns the events it causes without changing anything;
`evolve` applies one event. Between the two the live room can commit the events to the
store, so nothing is acknowledged or broadcast before it is stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import ValidationError

from app import protocol as p
from app.aggregates import UNKNOWN, Aggregate, AggregateKey
from app.k_rule import releasable, shown_groups
from app.templates.model import Template

FACILITATOR_ID = "facilitator"
# Positions are floats between neighbours; below this gap the area is renumbered.
MIN_POSITION_GAP = 1e-6


class DomainError(Exception):
    """A command the rules refuse. The connection lives on; the client gets `code`."""

    def __init__(self, code: p.ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Actor(NamedTuple):
    role: p.Role
    participant_id: str | None

    @property
    def id(self) -> str:
        return self.participant_id or FACILITATOR_ID

    @property
    def is_facilitator(self) -> bool:
        return self.role == "facilitator"


class Audience(NamedTuple):
    """Who receives an event: everyone, or one participant and/or the facilitators."""

    everyone: bool
    facilitators: bool = True
    participant_id: str | None = None

    def includes(self, role: p.Role, participant_id: str | None) -> bool:
        if self.everyone or (self.facilitators and role == "facilitator"):
            return True
        return participant_id is not None and participant_id == self.participant_id


EVERYONE = Audience(everyone=True)


class Emitted(NamedTuple):
    event: p.Event
    audience: Audience


@dataclass(slots=True)
class Note:
    id: str
    area_id: str
    text: str
    color: p.Color
    author_id: str
    position: float
    created_at: datetime
    updated_at: datetime
    statement_id: str | None = None
    # Bumped by edits and moves by a person (not by votes or renumbering): `base_version`
    # on edit_note compares against it.
    version: int = 1
    voters: set[str] = field(default_factory=set)
    # For a note whose author is no participant here (an imported one): the name it had.
    author_name: str | None = None


@dataclass(slots=True)
class Participant:
    id: str
    name: str | None = None
    group: str | None = None


@dataclass
class Board:
    room_id: str
    template: Template
    # Replaced whole by each `room_updated`, never changed in place.
    config: p.RoomConfig
    created_at: datetime
    expires_at: datetime
    flow: p.RoomFlow = field(default_factory=p.RoomFlow)
    join_code: str = ""
    max_notes: int = 5000
    participants: dict[str, Participant] = field(default_factory=dict)
    notes: dict[str, Note] = field(default_factory=dict)
    # (respondent id, AggregateKey without group) -> value. A respondent is whoever an answer
    # belongs to, not who sent it: a participant answering from a phone is its own
    # respondent (the same id); a paper sheet typed in by the facilitator, an imported or a
    # baseline respondent has no socket. Everything below the decision is keyed on it.
    scores: dict[tuple[str, AggregateKey], int] = field(default_factory=dict)
    # Respondents that are not participants, and the group each answers in (None: none).
    respondents: dict[str, str | None] = field(default_factory=dict)
    aggregates: dict[AggregateKey, Aggregate] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    # statement -> [moved left, moved right, stayed] since the previous round (O(1) upkeep).
    shifts: dict[str, list[int]] = field(default_factory=dict)
    # Voters per group in the current round, and each person's answered keys (to move them
    # between group aggregates when the person changes group, without a scan).
    group_voters: dict[str, int] = field(default_factory=dict)
    keys_of: dict[str, set[AggregateKey]] = field(default_factory=dict)
    # What the figures show (app/figures.py reads these, never `aggregates`): copies of the
    # aggregates as last released, per key. A round's are released whole when its results
    # are first disclosed; after that a quantity's change is released only once the people
    # who changed it are none or at least k in every atom (app/k_rule.py). `pending` holds,
    # per (round, kind, statement), who changed since and their value at the last release.
    released: dict[AggregateKey, Aggregate] = field(default_factory=dict, repr=False)
    released_shifts: dict[str, tuple[int, int, int]] = field(default_factory=dict, repr=False)
    pending: dict[tuple[int, str, str], dict[str, int | None]] = field(default_factory=dict, repr=False)
    # Who has ever given an answer here (clearing it too keeps them in): their group is fixed,
    # so that no change of theirs, pending or shown, moves between groups' figures.
    has_answered: set[str] = field(default_factory=set, repr=False)
    pending_full: dict[tuple[int, str, str], dict[str, int | None]] = field(default_factory=dict, repr=False)
    pending_groups: dict[tuple[int, str, str], Counter[str | None]] = field(default_factory=dict, repr=False)
    pending_group_of: dict[tuple[int, str, str], dict[str, str | None]] = field(default_factory=dict, repr=False)
    # Which groups' figures of a quantity were shown at their last release: kept, not worked
    # out again from figures released at two different moments.
    released_groups_shown: dict[tuple[int, str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    disclosed_rounds: set[int] = field(default_factory=set, repr=False)
    # One object per distinct key (a few dozen), shared by every score that uses it: a room of
    # 2,000 keeps 20,000 scores, and each key object is one more for the cyclic collector.
    canonical_keys: dict[AggregateKey, AggregateKey] = field(default_factory=dict, repr=False)
    # Notes decided but not yet stored (a batch being written): they count for the room's
    # limit and the next note's place, and are in no view until their event is applied.
    reserved: dict[str, p.NotePublic] = field(default_factory=dict, repr=False)
    voters: int = 0
    completed: int = 0

    def __post_init__(self) -> None:
        self._statement_ids = frozenset(self.template.statement_ids())
        self._area_ids = frozenset(self.template.area_ids())

    # ------------------------------------------------------------ decide

    def decide(self, command: p.Command, actor: Actor, now: datetime) -> list[Emitted]:
        if actor.role == "screen":
            raise DomainError(p.ErrorCode.FORBIDDEN, "A screen only shows the room.")
        if command.type in p.FACILITATOR_COMMANDS and not actor.is_facilitator:
            raise DomainError(p.ErrorCode.FORBIDDEN, "Only the facilitator may do that.")
        match command:
            case p.SetScore():
                return self._decide_score(command, actor)
            case p.SetProfile():
                return self._decide_profile(command, actor)
            case p.AddNote():
                return self._decide_add_note(command, actor, now)
            case p.EditNote():
                return self._decide_edit_note(command, actor, now)
            case p.MoveNote():
                return self._decide_move_note(command, actor, now)
            case p.DeleteNote():
                self._own_note(command.note_id, actor)
                return [Emitted(p.NoteDeleted(note_id=command.note_id), EVERYONE)]
            case p.VoteNote():
                return self._decide_vote(command, actor, now)
            case p.SetPhase():
                return [Emitted(p.PhaseChanged(phase=command.phase), EVERYONE)]
            case p.SetResultsVisible():
                return [Emitted(p.ResultsVisibility(visible=command.visible), EVERYONE)]
            case p.SetVotingLocked():
                return [Emitted(p.VotingLocked(locked=command.locked), EVERYONE)]
            case p.SetTimer():
                ends = None if command.seconds is None else now + timedelta(seconds=command.seconds)
                return [Emitted(p.TimerChanged(ends_at=ends, seconds=command.seconds), EVERYONE)]
            case p.SetGroups():
                ids = [group.id for group in command.groups]
                if len(set(ids)) != len(ids):
                    raise DomainError(p.ErrorCode.INVALID_MESSAGE, "Group ids must not repeat.")
                return [Emitted(self._reconfigured({"groups": command.groups}), EVERYONE)]
            case p.SetScreen():
                return [Emitted(p.ScreenChanged(screen=self._screen(command)), EVERYONE)]
            case p.StartRound():
                # A new round is graded blind again: last round's figures would anchor it.
                started = [Emitted(p.RoundStarted(round=self.flow.round + 1), EVERYONE)]
                if self.flow.results_visible:
                    started.append(Emitted(p.ResultsVisibility(visible=False), EVERYONE))
                return started
            case p.UpdateRoom():
                given = {name: value for name, value in command if name not in {"type", "cid"} and value is not None}
                return [Emitted(self._reconfigured(given), EVERYONE)]
        raise AssertionError(f"unhandled command {command.type}")  # pragma: no cover

    def _reconfigured(self, changes: dict[str, object]) -> p.RoomUpdated:
        """The configuration with `changes` applied, as the event that announces it. Field by
        name: a field added to RoomConfig (and UpdateRoom) needs nothing here."""
        try:
            return p.RoomUpdated.model_validate({**dict(self.config), **changes})
        except ValidationError as error:
            raise DomainError(p.ErrorCode.INVALID_MESSAGE, str(error.errors()[0]["msg"])) from error

    def _screen(self, command: p.SetScreen) -> p.ScreenState:
        if command.view == "statement":
            if command.statement_id is None:
                raise DomainError(p.ErrorCode.INVALID_MESSAGE, "statement_id: which statement to show.")
            self._statement(command.statement_id)
        if command.view == "questions" and command.question >= len(self.template.questions):
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No question {command.question}.")
        statement_id = command.statement_id if command.view == "statement" else None
        question = command.question if command.view == "questions" else 0
        return p.ScreenState(view=command.view, statement_id=statement_id, question=question)

    def decide_join(self, participant_id: str, name: str | None) -> list[Emitted]:
        participant = p.ParticipantPublic(id=participant_id, name=name or None, group=None)
        # Never to everyone, named or not: others learn that someone joined as a count
        # (`presence`), so no join can be lined up with the next change of a figure.
        audience = Audience(everyone=False, participant_id=participant_id)
        return [Emitted(p.ParticipantJoined(participant=participant), audience)]

    def _writable(self, actor: Actor) -> None:
        if self.flow.phase == "closed" and not actor.is_facilitator:
            raise DomainError(p.ErrorCode.ROOM_CLOSED, "The room is closed.")

    def _decide_score(self, command: p.SetScore, actor: Actor) -> list[Emitted]:
        if actor.participant_id is None:
            raise DomainError(p.ErrorCode.FORBIDDEN, "Only participants grade statements.")
        self._writable(actor)
        if self.flow.voting_locked:
            raise DomainError(p.ErrorCode.VOTING_LOCKED, "Voting is locked.")
        if command.statement_id not in self._statement_ids:
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No statement {command.statement_id!r}.")
        if command.kind == "desired" and not self.config.desired_enabled:
            raise DomainError(p.ErrorCode.NOT_ENABLED, "This room does not ask where you want to be.")
        event = p.ScoreSet(
            statement_id=command.statement_id,
            kind=command.kind,
            round=self.flow.round,
            value=command.value,
            respondent_id=actor.participant_id,
        )
        return [
            Emitted(
                event,
                Audience(everyone=False, facilitators=False, participant_id=actor.participant_id),
            )
        ]

    def _decide_profile(self, command: p.SetProfile, actor: Actor) -> list[Emitted]:
        if actor.participant_id is None:
            raise DomainError(p.ErrorCode.FORBIDDEN, "The facilitator has no profile.")
        self._writable(actor)
        before = self.participants.get(actor.participant_id) or Participant(actor.participant_id)
        # A field left out stays as it is; an empty name (or null) means anonymous again.
        given = command.model_fields_set
        name = (command.name or None) if "name" in given else before.name
        group = command.group if "group" in given else before.group
        if group is not None and group not in {g.id for g in self.config.groups}:
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No group {group!r}.")
        if group != before.group and actor.participant_id in self.has_answered:
            # Moving answers already counted would change a group's figures by exactly this
            # person's answers, at a moment the room's messages name (docs/insight.md).
            raise DomainError(p.ErrorCode.GROUP_FIXED, "Your group cannot change once you have answered.")
        full = p.ParticipantPublic(id=actor.participant_id, name=name, group=group)
        # Who someone is, and when they changed it, reaches only them and the facilitators:
        # a name told to everyone at the moment a figure changes ties the change to it.
        emitted = [
            Emitted(
                p.ParticipantUpdated(participant=full), Audience(everyone=False, participant_id=actor.participant_id)
            )
        ]
        if name != before.name:
            # Others know a name only from the notes it signs: those carry the new one.
            for note in self.notes.values():
                if note.author_id == actor.participant_id:
                    renamed = self.public_note(note).model_copy(update={"author_name": name})
                    emitted.append(Emitted(p.NoteUpdated(note=renamed), EVERYONE))
        return emitted

    def _statement(self, statement_id: str | None) -> str | None:
        if statement_id is not None and statement_id not in self._statement_ids:
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No statement {statement_id!r}.")
        return statement_id

    def _area(self, area_id: str) -> str:
        if area_id not in self._area_ids:
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No area {area_id!r}.")
        return area_id

    def _own_note(self, note_id: str, actor: Actor) -> Note:
        self._writable(actor)
        note = self.notes.get(note_id)
        if note is None:
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No note {note_id!r}.")
        if not actor.is_facilitator and note.author_id != actor.id:
            raise DomainError(p.ErrorCode.NOT_AUTHOR, "Only its author or the facilitator may change a note.")
        return note

    def _decide_add_note(self, command: p.AddNote, actor: Actor, now: datetime) -> list[Emitted]:
        self._writable(actor)
        area_id = self._area(command.area_id)
        if len(self.notes) + len(self.reserved) >= self.max_notes:
            raise DomainError(p.ErrorCode.LIMIT_REACHED, "This room holds no more notes.")
        note_id = _note_id(self.room_id, actor.id, command.cid)
        if note_id in self.reserved:
            raise DomainError(p.ErrorCode.CONFLICT, "That note is being stored; wait for its ack.")
        placed = [n.position for n in self.notes.values() if n.area_id == area_id]
        placed += [n.position for n in self.reserved.values() if n.area_id == area_id]
        last = max(placed, default=0.0)
        note = Note(
            id=note_id,
            statement_id=self._statement(command.statement_id),
            area_id=area_id,
            text=command.text,
            color=command.color,
            author_id=actor.id,
            position=float(int(last) + 1),
            created_at=now,
            updated_at=now,
        )
        return [Emitted(p.NoteAdded(note=self.public_note(note)), EVERYONE)]

    def _decide_edit_note(self, command: p.EditNote, actor: Actor, now: datetime) -> list[Emitted]:
        note = self._own_note(command.note_id, actor)
        if command.base_version is not None and command.base_version != note.version:
            raise DomainError(p.ErrorCode.CONFLICT, f"The note changed (now version {note.version}).")
        linked = note.statement_id
        if "statement_id" in command.model_fields_set:
            linked = self._statement(command.statement_id)
        changed = _replace(
            note,
            text=command.text or note.text,
            color=command.color or note.color,
            statement_id=linked,
            updated_at=now,
            version=note.version + 1,
        )
        return [Emitted(p.NoteUpdated(note=self.public_note(changed)), EVERYONE)]

    def _decide_move_note(self, command: p.MoveNote, actor: Actor, now: datetime) -> list[Emitted]:
        note = self._own_note(command.note_id, actor)
        area_id = self._area(command.area_id)
        others = sorted(
            (n for n in self.notes.values() if n.area_id == area_id and n.id != note.id),
            key=lambda n: (n.position, n.id),
        )
        index = min(command.index, len(others))
        before = others[index - 1].position if index > 0 else None
        after = others[index].position if index < len(others) else None
        if before is None and after is None:
            position = 1.0
        elif before is None:
            position = after - 1.0  # type: ignore[operator]
        elif after is None:
            position = before + 1.0
        else:
            position = (before + after) / 2
        if before is not None and after is not None and after - before < MIN_POSITION_GAP:
            return self._renumber(others, note, index, area_id, now)
        moved = _replace(note, area_id=area_id, position=position, updated_at=now, version=note.version + 1)
        return [Emitted(p.NoteUpdated(note=self.public_note(moved)), EVERYONE)]

    def _renumber(self, others: list[Note], note: Note, index: int, area_id: str, now: datetime) -> list[Emitted]:
        ordered = [*others[:index], note, *others[index:]]
        emitted = []
        for rank, item in enumerate(ordered, start=1):
            moved = item is note
            renumbered = _replace(
                item,
                area_id=area_id,
                position=float(rank),
                updated_at=now if moved else item.updated_at,
                version=item.version + 1 if moved else item.version,
            )
            emitted.append(Emitted(p.NoteUpdated(note=self.public_note(renumbered)), EVERYONE))
        return emitted

    def _decide_vote(self, command: p.VoteNote, actor: Actor, now: datetime) -> list[Emitted]:
        self._writable(actor)
        note = self.notes.get(command.note_id)
        if note is None:
            raise DomainError(p.ErrorCode.NOT_FOUND, f"No note {command.note_id!r}.")
        voters = set(note.voters)
        budget = self.config.votes_per_person
        if command.voted and actor.id not in voters and budget and not actor.is_facilitator:
            used = sum(actor.id in other.voters for other in self.notes.values())
            if used >= budget:
                raise DomainError(p.ErrorCode.VOTE_BUDGET_SPENT, f"You have used your {budget} votes.")
        if command.voted:
            voters.add(actor.id)
        else:
            voters.discard(actor.id)
        # Votes do not touch the version: it guards the author's text against lost updates.
        voted = _replace(note, voters=voters)
        mine = Audience(everyone=False, facilitators=False, participant_id=actor.participant_id)
        if actor.is_facilitator:
            mine = Audience(everyone=False, facilitators=True)
        return [
            Emitted(p.NoteUpdated(note=self.public_note(voted)), EVERYONE),
            Emitted(p.MyVote(note_id=note.id, voted=command.voted), mine),
        ]

    # ------------------------------------------------------------ evolve

    def evolve(self, event: p.Event, actor: Actor) -> None:
        match event:
            case p.ScoreSet():
                key = AggregateKey(event.round, event.kind, event.statement_id)
                self._set_score(event.respondent_id or actor.id, key, to_stored(event.value))
            case p.NoteAdded() | p.NoteUpdated():
                self.reserved.pop(event.note.id, None)
                self._put_note(event.note)
            case p.NoteDeleted():
                self.notes.pop(event.note_id, None)
            case p.PhaseChanged():
                self.flow.phase = event.phase
            case p.ResultsVisibility():
                self.flow.results_visible = event.visible
                if event.visible:
                    self.disclose_rounds(self.flow.round)
            case p.VotingLocked():
                self.flow.voting_locked = event.locked
            case p.TimerChanged():
                self.flow.timer_ends_at = event.ends_at
            case p.RoomUpdated():
                self.config = p.RoomConfig.of(event)
                known = {group.id for group in event.groups}
                for respondent_id in [*self.participants, *self.respondents]:
                    group = self.group_of(respondent_id)
                    if group is not None and group not in known:
                        self._regroup(respondent_id, None)
            case p.ParticipantJoined() | p.ParticipantUpdated():
                person = event.participant
                if person.id not in self.participants:
                    self.participants[person.id] = Participant(person.id)
                self._regroup(person.id, person.group)
                self.participants[person.id].name = person.name
            case p.MyVote():
                note = self.notes.get(event.note_id)
                if note is not None:
                    (note.voters.add if event.voted else note.voters.discard)(actor.id)
            case p.ScreenChanged():
                self.flow.screen = event.screen
            case p.RoundStarted():
                self.flow.round = event.round
                self.answered, self.voters, self.completed = {}, 0, 0
                self.shifts, self.group_voters, self.released_shifts = {}, {}, {}
            case p.RoomDeleted():
                pass

    def reserve(self, emitted: Iterable[Emitted]) -> None:
        """Hold the place of notes decided but not yet stored; `evolve` or `release` ends it."""
        for event, _ in emitted:
            if isinstance(event, p.NoteAdded):
                self.reserved[event.note.id] = event.note

    def release(self, emitted: Iterable[Emitted]) -> None:
        """Give up reservations whose store failed: as if they were never decided."""
        for event, _ in emitted:
            if isinstance(event, p.NoteAdded):
                self.reserved.pop(event.note.id, None)

    def _put_note(self, public: p.NotePublic) -> None:
        existing = self.notes.get(public.id)
        # Who voted is private; the voter's own `my_vote` event below updates the set.
        voters = existing.voters if existing else set()
        # An imported author's name stays; a participant's is looked up as it is now.
        kept_name = existing.author_name if existing else None
        self.notes[public.id] = Note(
            id=public.id,
            area_id=public.area_id,
            text=public.text,
            color=public.color,
            author_id=public.author_id,
            statement_id=public.statement_id,
            position=public.position,
            created_at=public.created_at,
            updated_at=public.updated_at,
            version=public.version,
            voters=voters,
            author_name=kept_name,
        )

    def _set_score(self, respondent_id: str, key: AggregateKey, value: int | None) -> None:
        key = self.canonical_keys.setdefault(key, key)
        # Read, then assign in place: the dict keeps the key tuple it already has, so a changed
        # answer makes no new long-lived object (a storm changes thousands a second).
        previous = self.scores.get((respondent_id, key))
        group = self.group_of(respondent_id)
        targets = [self.aggregates.setdefault(key, Aggregate())]
        if group is not None:
            targets.append(self.aggregates.setdefault(key._replace(group=group), Aggregate()))
        for aggregate in targets:
            if previous is not None:
                aggregate.remove(previous)
            if value is not None:
                aggregate.add(value)
        mine = self.keys_of.setdefault(respondent_id, set())
        if value is not None:
            self.has_answered.add(respondent_id)
            self.scores[(respondent_id, key)] = value
            mine.add(key)
        else:
            self.scores.pop((respondent_id, key), None)
            mine.discard(key)
        if key.round == self.flow.round and key.kind == "today":
            self._count_answer(respondent_id, (value is not None) - (previous is not None))
            if key.round > 1:
                self._count_shift(respondent_id, key, previous, value)
        if key.round in self.disclosed_rounds:
            self._pend(respondent_id, key, previous, value)

    # ------------------------------------------------------------ releases

    def _pend(self, respondent_id: str, key: AggregateKey, previous: int | None, value: int | None) -> None:
        """Note a change of a disclosed quantity, and release what gives nobody away.

        Two steps are kept: the room's figure (released once k people changed since its
        last release) and the groups' figures with it (released only when, since their last
        release, none or at least k changed in every atom, and the room's own step is then
        none or k too). So the whole room's figures keep moving in a room with groups,
        where a group's k changes can take long to gather."""
        quantity = (key.round, key.kind, key.statement_id)
        _note(self.pending.setdefault(quantity, {}), respondent_id, previous, value)
        delta = _note(self.pending_full.setdefault(quantity, {}), respondent_id, previous, value)
        if delta:
            # Counted under the group the change was first counted in, and taken back from
            # it: a group removed meanwhile (set_groups) must not leave a count below zero.
            counted_in = self.pending_group_of.setdefault(quantity, {})
            if delta > 0:
                counted_in[respondent_id] = self.group_of(respondent_id)
            group = counted_in[respondent_id] if delta > 0 else counted_in.pop(respondent_id)
            self.pending_groups.setdefault(quantity, Counter())[group] += delta
        k = self.config.group_min_size
        room_changes = len(self.pending[quantity])
        if len(self.pending_full[quantity]) >= k and (room_changes == 0 or room_changes >= k):
            round_number, kind, statement_id = quantity
            whole = AggregateKey(round_number, kind, statement_id)
            parts = {g.id: self.aggregates.get(whole._replace(group=g.id)) for g in self.config.groups}
            before = self.released_groups_shown.get(quantity, frozenset())
            after = shown_groups(self.aggregates.get(whole), parts, k)
            if releasable(self.pending_groups[quantity], before | after, k):
                self._release(quantity)
                return
        if room_changes >= k:
            self._release(quantity, groups=False)

    def _release(self, quantity: tuple[int, str, str], groups: bool = True) -> None:
        round_number, kind, statement_id = quantity
        whole = AggregateKey(round_number, kind, statement_id)
        keys = [whole]
        if groups:
            keys += [whole._replace(group=group.id) for group in self.config.groups]
            parts = {g.id: self.aggregates.get(whole._replace(group=g.id)) for g in self.config.groups}
            shown = shown_groups(self.aggregates.get(whole), parts, self.config.group_min_size)
            self.released_groups_shown[quantity] = frozenset(shown)
            self.pending_full.pop(quantity, None)
            self.pending_groups.pop(quantity, None)
            self.pending_group_of.pop(quantity, None)
        for key in keys:
            current = self.aggregates.get(key)
            if current is None:
                self.released.pop(key, None)
            else:
                self.released[key] = current.copy()
        self.pending.pop(quantity, None)
        if round_number == self.flow.round and kind == "today":
            left, right, stayed = self.shifts.get(statement_id, (0, 0, 0))
            self.released_shifts[statement_id] = (left, right, stayed)

    def disclose_rounds(self, up_to: int) -> None:
        """The first disclosure of rounds up to `up_to`: each not yet disclosed is released
        whole (nobody has seen any of its figures, so this moment compares with nothing)."""
        for round_number in range(1, up_to + 1):
            if round_number in self.disclosed_rounds:
                continue
            self.disclosed_rounds.add(round_number)
            for kind in p.SCORE_KINDS:
                for statement_id in self.template.statement_ids():
                    self._release((round_number, kind, statement_id))

    def released_value(self, respondent_id: str, key: AggregateKey, groups: bool = False) -> int | None:
        """A person's answer as the whole room's figures show it (`groups`: as the groups'
        figures show it), that is as last released."""
        tier = self.pending_full if groups else self.pending
        changed = tier.get((key.round, key.kind, key.statement_id), {})
        if respondent_id in changed:
            return changed[respondent_id]
        if key.round not in self.disclosed_rounds:
            return None
        return self.scores.get((respondent_id, key))

    def settle_loaded(self) -> None:
        """After loading from the store: what was pending before is released now (a restart
        is the one moment that can show fewer than k people's changes, docs/insight.md), and
        rounds count as disclosed as the room's flow says they were."""
        self.disclosed_rounds = set()
        last = self.flow.round if self.flow.results_visible else self.flow.round - 1
        self.disclose_rounds(last)

    def _count_shift(self, respondent_id: str, key: AggregateKey, before: int | None, after: int | None) -> None:
        """Keep left/right/stayed counts against this person's grade in the previous round."""
        earlier = self.scores.get((respondent_id, key._replace(round=key.round - 1)))
        if earlier is None or earlier == UNKNOWN:
            return
        counts = self.shifts.setdefault(key.statement_id, [0, 0, 0])
        for value, sign in ((before, -1), (after, 1)):
            if value is not None and value != UNKNOWN:
                counts[0 if value < earlier else 1 if value > earlier else 2] += sign

    def _count_answer(self, respondent_id: str, delta: int) -> None:
        if not delta:
            return
        before = self.answered.get(respondent_id, 0)
        after = before + delta
        self.answered[respondent_id] = after
        total = len(self._statement_ids)
        self.voters += (after > 0) - (before > 0)
        self.completed += (after >= total) - (before >= total)
        group = self.group_of(respondent_id)
        if group is not None:
            self.group_voters[group] = self.group_voters.get(group, 0) + (after > 0) - (before > 0)

    def _regroup(self, respondent_id: str, group: str | None) -> None:
        """Move a respondent's answers from one group's aggregates to another's: O(their
        answers)."""
        old = self.group_of(respondent_id)
        if old == group:
            return
        for key in self.keys_of.get(respondent_id, ()):
            value = self.scores[(respondent_id, key)]
            if old is not None:
                self.aggregates[key._replace(group=old)].remove(value)
            if group is not None:
                self.aggregates.setdefault(key._replace(group=group), Aggregate()).add(value)
        if self.answered.get(respondent_id, 0) > 0:
            if old is not None:
                self.group_voters[old] -= 1
            if group is not None:
                self.group_voters[group] = self.group_voters.get(group, 0) + 1
        if respondent_id in self.participants:
            self.participants[respondent_id].group = group
        else:
            self.respondents[respondent_id] = group

    def group_of(self, respondent_id: str) -> str | None:
        """The group a respondent's answers count in: a participant's is the one it chose."""
        person = self.participants.get(respondent_id)
        return person.group if person else self.respondents.get(respondent_id)

    @property
    def people(self) -> int:
        """Everyone in the room: who joined, and who answers without having joined."""
        return len(self.participants) + len(self.respondents)

    def load_score(self, respondent_id: str, key: AggregateKey, value: int) -> None:
        """Restore one stored score (used when a room is loaded, not for live changes)."""
        self._set_score(respondent_id, key, value)

    # ------------------------------------------------------------ views

    def public_note(self, note: Note) -> p.NotePublic:
        author = self.participants.get(note.author_id)
        return p.NotePublic(
            id=note.id,
            area_id=note.area_id,
            text=note.text,
            color=note.color,
            author_id=note.author_id,
            author_name=author.name if author else note.author_name,
            statement_id=note.statement_id,
            position=note.position,
            votes=len(note.voters),
            version=note.version,
            created_at=note.created_at,
            updated_at=note.updated_at,
        )

    def ordered_notes(self) -> Iterable[Note]:
        return sorted(self.notes.values(), key=lambda n: (n.area_id, n.position, n.id))

    def my_scores(
        self, respondent_id: str, round_number: int | None = None, kind: p.ScoreKind = "today"
    ) -> dict[str, p.Answer]:
        wanted = self.flow.round if round_number is None else round_number
        mine: dict[str, p.Answer] = {}
        for statement_id in self.template.statement_ids():
            value = self.scores.get((respondent_id, AggregateKey(wanted, kind, statement_id)))
            if value is not None:
                mine[statement_id] = to_answer(value)
        return mine

    def settings(self) -> p.RoomSettings:
        return p.RoomSettings(
            **dict(self.config), **dict(self.flow), join_code=self.join_code, expires_at=self.expires_at
        )


def to_stored(value: p.Answer | None) -> int | None:
    """The wire's answer as kept in aggregates and the store ("unknown" is UNKNOWN, 0)."""
    return UNKNOWN if value == "unknown" else value


def to_answer(value: int) -> p.Answer:
    return "unknown" if value == UNKNOWN else value


def _note_id(room_id: str, actor_id: str, cid: str) -> str:
    """Derived from the command, so a re-sent add_note can never create a second note."""
    digest = hashlib.blake2b(f"{room_id}\x00{actor_id}\x00{cid}".encode(), digest_size=12)
    return "n_" + digest.hexdigest()


def _replace(note: Note, **changes: object) -> Note:
    return dataclasses.replace(note, **changes)  # type: ignore[arg-type]


def _note(changed: dict[str, int | None], respondent_id: str, previous: int | None, value: int | None) -> int:
    """Keep who changed since a release and their answer then: +1 for someone new, -1 for
    someone back at their released answer, 0 otherwise."""
    if respondent_id not in changed:
        if previous == value:
            return 0  # the same answer again (or clearing none): nothing changed
        changed[respondent_id] = previous
        return 1
    if changed[respondent_id] == value:
        del changed[respondent_id]
        return -1
    return 0
