"""Every message of the live protocol, as typed pydantic models.

Owns the wire format only: no room logic, no I/O. One discriminated union per direction,
with the TypeAdapters built once at import (they are on the hot path). docs/protocol.md
documents each model here with an example; tests/test_protocol_doc.py keeps them in step.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from app.templates.model import Language, Template
from app.text import PlainText

PROTOCOL_VERSION = 1

Phase = Literal["lobby", "grade", "reflect", "document", "closed"]
Role = Literal["facilitator", "participant"]
# The kind of answer: how it is today, or where we want to be (when the room asks for it).
ScoreKind = Literal["today", "desired"]
# Every text field refuses control characters and treats invisible-only text as empty (app/text.py).
Cid = Annotated[str, PlainText(min_length=1, max_length=64)]
Id = Annotated[str, PlainText(min_length=1, max_length=64)]
NoteText = Annotated[str, PlainText(min_length=1, max_length=500, strip=True)]
DisplayName = Annotated[str, PlainText(max_length=60, strip=True)]
Color = Literal["yellow", "pink", "blue", "green", "orange", "purple"]
Score = Annotated[int, Field(ge=1, le=10)]
# An answer: a score 1-10, or "unknown" ("Vet ej", "don't know"), its own answer.
Answer = Score | Literal["unknown"]
Insight = Literal["too_few", "agreement", "spread", "two_camps"]


class ErrorCode(StrEnum):
    """Stable error codes; a client may switch on them. Never renumber or rename."""

    INVALID_JSON = "invalid_json"
    INVALID_MESSAGE = "invalid_message"
    UNKNOWN_TYPE = "unknown_type"
    HELLO_REQUIRED = "hello_required"
    ALREADY_GREETED = "already_greeted"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NOT_AUTHOR = "not_author"
    NOT_ENABLED = "not_enabled"
    VOTING_LOCKED = "voting_locked"
    ROOM_CLOSED = "room_closed"
    CONFLICT = "conflict"
    LIMIT_REACHED = "limit_reached"
    UNAVAILABLE = "unavailable"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses. 4000-range codes are Samskapa's own."""

    MESSAGE_TOO_BIG = 1009
    ROOM_NOT_FOUND = 4004
    UNAUTHORIZED = 4001
    RATE_LIMITED = 4008
    TOO_SLOW = 4009
    ROOM_DELETED = 4010
    HELLO_TIMEOUT = 4011
    SERVER_RESTART = 4012
    ROOM_FULL = 4013
    TOO_MANY_JOINS = 4029


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- client -> server


class Hello(_Message):
    """First message on every connection. `token` resumes an identity; none joins anew."""

    type: Literal["hello"]
    protocol: Literal[1] = 1
    token: Annotated[str, PlainText(max_length=128)] | None = None
    name: DisplayName | None = None
    epoch: Annotated[str, PlainText(max_length=64)] | None = None
    last_seq: Annotated[int, Field(ge=0)] | None = None


class _Command(_Message):
    cid: Cid


class SetScore(_Command):
    """Grade one statement (1-10, or "unknown" for don't know); `value: null` clears it."""

    type: Literal["set_score"]
    statement_id: Id
    value: Answer | None
    kind: ScoreKind = "today"


class SetProfile(_Command):
    """Give or change the optional display name (empty = anonymous) and group."""

    type: Literal["set_profile"]
    name: DisplayName | None = None
    group: Id | None = None


class AddNote(_Command):
    """A note in an area; `statement_id` optionally links it to one statement."""

    type: Literal["add_note"]
    area_id: Id
    text: NoteText
    color: Color = "yellow"
    statement_id: Id | None = None


class EditNote(_Command):
    """Change text, colour and/or the linked statement (`statement_id: null` unlinks; left
    out, it stays). With `base_version`, refuse if someone changed the note since."""

    type: Literal["edit_note"]
    note_id: Id
    text: NoteText | None = None
    color: Color | None = None
    statement_id: Id | None = None
    base_version: int | None = None


class MoveNote(_Command):
    """Move a note to `index` (0 = first) within `area_id`, which may be its current area."""

    type: Literal["move_note"]
    note_id: Id
    area_id: Id
    index: Annotated[int, Field(ge=0)]


class DeleteNote(_Command):
    type: Literal["delete_note"]
    note_id: Id


class VoteNote(_Command):
    """Give (`voted: true`) or take back one dot vote. Stating the wanted state, not
    toggling, keeps a re-sent command harmless."""

    type: Literal["vote_note"]
    note_id: Id
    voted: bool


class SetPhase(_Command):
    type: Literal["set_phase"]
    phase: Phase


class SetResultsVisible(_Command):
    type: Literal["set_results_visible"]
    visible: bool


class SetVotingLocked(_Command):
    type: Literal["set_voting_locked"]
    locked: bool


class SetTimer(_Command):
    """Start a countdown of `seconds` for everyone; `null` stops it."""

    type: Literal["set_timer"]
    seconds: Annotated[int, Field(ge=1, le=86_400)] | None


class GroupDef(_Message):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    name: Annotated[str, PlainText(min_length=1, max_length=60, strip=True)]


class SetGroups(_Command):
    type: Literal["set_groups"]
    groups: Annotated[list[GroupDef], Field(max_length=12)]


class UpdateRoom(_Command):
    """Change the title, language and/or the smallest group shown on its own (k >= 2)."""

    type: Literal["update_room"]
    title: Annotated[str, PlainText(min_length=1, max_length=120, strip=True)] | None = None
    language: Language | None = None
    group_min_size: Annotated[int, Field(ge=2, le=50)] | None = None
    desired_enabled: bool | None = None


class StartRound(_Command):
    """Close the current round (its answers are kept as they are) and open the next."""

    type: Literal["start_round"]


class Ping(_Message):
    type: Literal["ping"]
    cid: Cid | None = None


Command = Annotated[
    SetScore
    | SetProfile
    | AddNote
    | EditNote
    | MoveNote
    | DeleteNote
    | VoteNote
    | SetPhase
    | SetResultsVisible
    | SetVotingLocked
    | SetTimer
    | SetGroups
    | UpdateRoom
    | StartRound,
    Field(discriminator="type"),
]
ClientMessage = Annotated[Hello | Ping | Command, Field(discriminator="type")]
FACILITATOR_COMMANDS = frozenset(
    {
        "set_phase",
        "set_results_visible",
        "set_voting_locked",
        "set_timer",
        "set_groups",
        "update_room",
        "start_round",
    }
)

# ---------------------------------------------------------------- shared shapes


class NotePublic(_Message):
    id: str
    area_id: str
    text: str
    color: Color
    author_id: str
    author_name: str | None
    statement_id: str | None
    position: float
    votes: int
    version: int
    created_at: datetime
    updated_at: datetime


class ParticipantPublic(_Message):
    id: str
    name: str | None
    group: str | None


class RoundShift(_Message):
    """The previous round's figures for a statement, and how people moved since: counted
    over participants who gave a grade (1-10) in both rounds."""

    round: int
    n: int
    unknown: int
    mean: float | None
    median: float | None
    sd: float | None
    histogram: list[int]
    moved_left: int
    moved_right: int
    stayed: int


class DesiredFigures(_Message):
    """Where the group wants to be on a statement (rooms that ask for it)."""

    n: int
    unknown: int
    mean: float | None
    median: float | None
    sd: float | None
    histogram: list[int]


class StatementSpectrum(_Message):
    statement_id: str
    n: int
    unknown: int
    mean: float | None
    median: float | None
    sd: float | None
    histogram: list[int]
    insight: Insight
    previous: RoundShift | None = None
    desired: DesiredFigures | None = None
    gap: float | None = None


class GroupFigures(_Message):
    """One group's figures, only ever sent for a group of at least `group_min_size` voters."""

    group_id: str
    name: str
    voters: int
    statements: list[StatementSpectrum]


class Spectrum(_Message):
    """Aggregates, coalesced. `seq` is the last change included, so a client whose own
    score was acked with seq S knows it is counted once it sees a spectrum with seq >= S.
    While results are hidden, participants get `statements: null` and `overall: null`."""

    type: Literal["spectrum"] = "spectrum"
    seq: int
    round: int
    visible: bool
    voters: int
    completed: int
    statements: list[StatementSpectrum] | None
    overall: float | None
    groups: list[GroupFigures] | None = None
    hidden_groups: int = 0


class RoomSettings(_Message):
    title: str
    join_code: str
    language: Language
    phase: Phase
    results_visible: bool
    voting_locked: bool
    timer_ends_at: datetime | None
    groups: list[GroupDef]
    group_min_size: int
    desired_enabled: bool
    round: int
    expires_at: datetime


class Snapshot(_Message):
    room_id: str
    settings: RoomSettings
    template: Template
    notes: list[NotePublic]
    my_votes: list[str]
    my_scores: dict[str, Answer]
    my_previous_scores: dict[str, Answer]
    my_desired_scores: dict[str, Answer] = {}
    participants: list[ParticipantPublic]
    online: int
    spectrum: Spectrum


class You(_Message):
    role: Role
    participant_id: str | None
    token: str | None = Field(default=None, description="Only sent when a new participant identity was created.")
    name: str | None = None
    group: str | None = None


# ---------------------------------------------------------------- server -> client


class Welcome(_Message):
    """Reply to hello. Either `snapshot` (a fresh view) or `events` (what was missed since
    `last_seq` in the same `epoch`), never both."""

    type: Literal["welcome"] = "welcome"
    protocol: int = PROTOCOL_VERSION
    epoch: str
    seq: int
    server_time: datetime
    you: You
    snapshot: Snapshot | None
    events: list[dict[str, Any]] | None


class Ack(_Message):
    type: Literal["ack"] = "ack"
    cid: str
    seq: int


class Error(_Message):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    cid: str | None = None


class Pong(_Message):
    type: Literal["pong"] = "pong"
    cid: str | None = None
    server_time: datetime


class Presence(_Message):
    """Coalesced like the spectrum: how many are connected right now."""

    type: Literal["presence"] = "presence"
    online: int
    participants: int


class _Event(_Message):
    seq: int = 0


class NoteAdded(_Event):
    type: Literal["note_added"] = "note_added"
    note: NotePublic


class NoteUpdated(_Event):
    """Edited, moved or voted: the whole note as it is now."""

    type: Literal["note_updated"] = "note_updated"
    note: NotePublic


class NoteDeleted(_Event):
    type: Literal["note_deleted"] = "note_deleted"
    note_id: str


class PhaseChanged(_Event):
    type: Literal["phase_changed"] = "phase_changed"
    phase: Phase


class ResultsVisibility(_Event):
    type: Literal["results_visibility"] = "results_visibility"
    visible: bool


class VotingLocked(_Event):
    type: Literal["voting_locked"] = "voting_locked"
    locked: bool


class TimerChanged(_Event):
    type: Literal["timer_changed"] = "timer_changed"
    ends_at: datetime | None
    seconds: int | None


class RoomUpdated(_Event):
    type: Literal["room_updated"] = "room_updated"
    title: str
    language: Language
    groups: list[GroupDef]
    group_min_size: int
    desired_enabled: bool


class ParticipantJoined(_Event):
    """Sent to facilitators and to the participant itself."""

    type: Literal["participant_joined"] = "participant_joined"
    participant: ParticipantPublic


class ParticipantUpdated(_Event):
    """Sent to everyone when a name is given or changed, else to facilitators and self."""

    type: Literal["participant_updated"] = "participant_updated"
    participant: ParticipantPublic


class ScoreSet(_Event):
    """Sent only to the participant who scored (all of its connections)."""

    type: Literal["score_set"] = "score_set"
    statement_id: str
    kind: ScoreKind
    round: int
    value: Answer | None


class MyVote(_Event):
    """Sent only to the voter: whether it now votes for the note."""

    type: Literal["my_vote"] = "my_vote"
    note_id: str
    voted: bool


class RoundStarted(_Event):
    type: Literal["round_started"] = "round_started"
    round: int


class RoomDeleted(_Event):
    type: Literal["room_deleted"] = "room_deleted"


Event = Annotated[
    NoteAdded
    | NoteUpdated
    | NoteDeleted
    | PhaseChanged
    | ResultsVisibility
    | VotingLocked
    | TimerChanged
    | RoomUpdated
    | ParticipantJoined
    | ParticipantUpdated
    | ScoreSet
    | MyVote
    | RoundStarted
    | RoomDeleted,
    Field(discriminator="type"),
]
ServerMessage = Annotated[Welcome | Ack | Error | Pong | Presence | Spectrum | Event, Field(discriminator="type")]

client_message_adapter: TypeAdapter[Hello | Ping | Command] = TypeAdapter(ClientMessage)
server_message_adapter: TypeAdapter[Any] = TypeAdapter(ServerMessage)
