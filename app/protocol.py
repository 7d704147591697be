"""Every message of the live protocol, as typed pydantic models.

Owns the wire format only: no room logic, no I/O. One discriminated union per direction,
with the TypeAdapters built once at import (they are on the hot path). docs/protocol.md
documents each model here with an example; tests/test_protocol_doc.py keeps them in step.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, create_model, field_validator

from app.templates.model import Language, Template
from app.text import PlainText

# Every protocol version this server speaks. During a rolling upgrade two instances may speak
# different sets; each hello is answered with the highest version both sides speak, so that
# a page loaded from the newer instance and one loaded from the older both keep working.
SUPPORTED_PROTOCOLS: frozenset[int] = frozenset({1})
# The newest version this server speaks: what it says in a welcome when nothing else was asked.
PROTOCOL_VERSION = max(SUPPORTED_PROTOCOLS)

Phase = Literal["lobby", "grade", "reflect", "document", "closed"]
# A screen is a read-only view (the projector, a board on a wall): no identity, no key,
# and it sees what participants see.
Role = Literal["facilitator", "participant", "screen"]
# What the room's screen shows, as the console chooses (set_screen).
ScreenView = Literal["code", "overview", "statement", "questions", "board"]
# The kind of answer: how it is today, or where we want to be (when the room asks for it).
ScoreKind = Literal["today", "desired"]
# Every kind, in the order reports list them: code that goes over the kinds reads this.
SCORE_KINDS: tuple[ScoreKind, ...] = get_args(ScoreKind)
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
Title = Annotated[str, PlainText(min_length=1, max_length=120, strip=True)]
# k: a group with fewer voters than this is never shown on its own.
GroupMinSize = Annotated[int, Field(ge=2, le=50)]
# How many notes each participant may vote for at once; 0 is no limit.
VoteBudget = Annotated[int, Field(ge=0, le=20)]
NoteOrder = Literal["position", "votes"]
ProtocolVersion = Annotated[int, Field(ge=1)]
# A public body's case number (sv diarienummer, fi diaarinumero), e.g. "KS 2026/123".
CaseNumber = Annotated[str, PlainText(max_length=40, strip=True)]


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
    GROUP_FIXED = "group_fixed"
    VOTE_BUDGET_SPENT = "vote_budget_spent"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"


class CloseCode(IntEnum):
    """WebSocket close codes the server uses. 4000-range codes are Samskapa's own."""

    MESSAGE_TOO_BIG = 1009
    # Sent by the server (uvicorn) to every socket as it stops: reconnect, as after 4012.
    SERVICE_RESTART = 1012
    ROOM_NOT_FOUND = 4004
    UNAUTHORIZED = 4001
    RATE_LIMITED = 4008
    TOO_SLOW = 4009
    ROOM_DELETED = 4010
    HELLO_TIMEOUT = 4011
    SERVER_RESTART = 4012
    ROOM_FULL = 4013
    # The co-facilitator link this socket came in by was revoked by the room's facilitator.
    ACCESS_REVOKED = 4014
    TOO_MANY_JOINS = 4029
    # The hello named only versions older than any this server speaks: the page is from an
    # older release and must be reloaded to get the current one (tldraw's ClientTooOld).
    CLIENT_TOO_OLD = 4426
    # The hello named only versions newer than any this server speaks: this instance is the
    # older one in a rolling upgrade; a reconnect with backoff reaches a newer one (ServerTooOld).
    SERVER_TOO_OLD = 4427


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, source: BaseModel) -> Self:
        """This shape's fields, taken by name from a model that has them (an event, a
        snapshot's settings, an export's room)."""
        return cls.model_validate({name: getattr(source, name) for name in cls.model_fields})


# ---------------------------------------------------------------- client -> server


class Hello(_Message):
    """First message on every connection. `token` resumes an identity; none joins anew;
    `screen: true` opens a read-only view of the room, with no identity (a projector)."""

    type: Literal["hello"]
    # Any version a client may come to speak: a newer client is answered with SERVER_TOO_OLD
    # (it reconnects), not with invalid_message (which it could never fix).
    protocol: ProtocolVersion = 1
    # Read, never written: the hello relayed to a room's owner is the negotiated one, and an
    # owner of the version before negotiation refuses a hello with a field it does not know.
    protocols: Annotated[list[ProtocolVersion], Field(min_length=1, max_length=16)] | None = Field(
        default=None, exclude=True
    )
    token: Annotated[str, PlainText(max_length=128)] | None = None
    screen: bool = False
    name: DisplayName | None = None
    epoch: Annotated[str, PlainText(max_length=64)] | None = None
    last_seq: Annotated[int, Field(ge=0)] | None = None

    def speaks(self) -> frozenset[int]:
        """The versions this client speaks: `protocols`, or only `protocol` from a client
        that predates the list (every client before version negotiation)."""
        return frozenset(self.protocols or (self.protocol,))


@dataclass(frozen=True)
class Unsupported:
    """Why a hello's versions and the server's have none in common, and how to close."""

    close_code: CloseCode
    message: str


def choose_protocol(spoken: Collection[int], supported: Collection[int] = SUPPORTED_PROTOCOLS) -> int | Unsupported:
    """The highest version both sides speak. Without one, which side is behind decides the
    close code: a client wholly older reloads (it gets the current page), a client wholly
    newer reconnects (another instance of the upgrade will speak its version)."""
    common = set(spoken) & set(supported)
    if common:
        return max(common)
    if max(spoken) < min(supported):
        return Unsupported(CloseCode.CLIENT_TOO_OLD, f"Protocol {max(spoken)} is too old: reload the page.")
    if min(spoken) > max(supported):
        return Unsupported(CloseCode.SERVER_TOO_OLD, "This server is older than the client: reconnect in a moment.")
    # Versions on both sides of the server's, none of them its own: the client, which has
    # the newer code, is the one out of step; a reload gives it the server's page.
    return Unsupported(CloseCode.CLIENT_TOO_OLD, "No protocol version in common: reload the page.")


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


class RoomConfig(_Message):
    """What the facilitator sets about a room. One shape, defined here once, for the board,
    the `room_updated` event, `update_room` (every field but the groups, each optional), the
    snapshot's settings, the export's room and the database row (one JSON document,
    app/rows.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Title
    language: Language
    groups: list[GroupDef] = []
    group_min_size: GroupMinSize = 3
    # Ask for a second value per statement: where we want to be ("Önskat").
    desired_enabled: bool = False
    # The case the report is filed under; an empty one is none.
    case_number: CaseNumber | None = None
    # Dot-voting with a budget forces a choice: each participant votes for at most this many
    # notes (0: as many as they like).
    votes_per_person: VoteBudget = 0
    # How every board and the room's screen list the notes of an area: as placed, or most
    # votes first.
    note_order: NoteOrder = "position"

    @field_validator("case_number")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class ScreenState(_Message):
    """What the room's screen shows: the join code, every statement, one statement (for
    discussion), one reflection question, or the board."""

    view: ScreenView = "code"
    statement_id: Id | None = None
    question: Annotated[int, Field(ge=0, le=19)] = 0


class RoomFlow(_Message):
    """Where the workshop stands: each field is changed by an event of its own."""

    phase: Phase = "lobby"
    results_visible: bool = False
    voting_locked: bool = False
    timer_ends_at: datetime | None = None
    round: Annotated[int, Field(ge=1)] = 1
    screen: ScreenState = Field(default_factory=ScreenState)


def _each_optional(config: type[BaseModel], without: frozenset[str]) -> dict[str, Any]:
    """Every field of `config` but `without`, each with its own type and limits and optional:
    left out or null, it stays as it is. Made from the model, so that a setting added to
    RoomConfig can be changed by `update_room` without being declared twice."""
    fields: dict[str, Any] = {}
    for name, field in config.model_fields.items():
        if name not in without:
            limited: Any = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            fields[name] = (limited | None, None)
    return fields


_UPDATE_ROOM_DOC = """Change any of the room's configuration but its groups (`set_groups`). A field left
    out or null stays as it is; each has the type and limits it has in RoomConfig (a
    `case_number` of "" removes it, a `votes_per_person` of 0 the limit)."""

if TYPE_CHECKING:

    class UpdateRoom(_Command):
        type: Literal["update_room"]

else:
    UpdateRoom = create_model(
        "UpdateRoom",
        __base__=_Command,
        __doc__=_UPDATE_ROOM_DOC,
        __module__=__name__,
        type=(Literal["update_room"], ...),
        **_each_optional(RoomConfig, without=frozenset({"groups"})),
    )


class SetScreen(_Command):
    """Choose what the room's screen shows (`statement_id` for the view `statement`,
    `question`, 0-based, for `questions`)."""

    type: Literal["set_screen"]
    view: ScreenView
    statement_id: Id | None = None
    question: Annotated[int, Field(ge=0, le=19)] = 0


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
    | StartRound
    | SetScreen,
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
        "set_screen",
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


class Figures(_Message):
    """One distribution: the answers of one population to one statement, in one round and
    of one kind. The one shape of figures; app/figures.py fills it, and decides who may see
    which."""

    n: int = Field(description="Answers 1-10.")
    unknown: int = Field(description='Answers of "don\'t know" (never part of n, mean, median or sd).')
    mean: float | None
    median: float | None
    sd: float | None = Field(
        description="Population standard deviation: it describes this group, it estimates nothing."
    )
    histogram: Annotated[list[int], Field(min_length=10, max_length=10, description="Answers of 1, 2, ... 10.")]
    # Held back by the k rule (docs/insight.md): how many answers there are; the figures are
    # then empty (n 0, no mean). None: shown.
    withheld: int | None = None


class RoundShift(Figures):
    """The previous round's figures for a statement, and how people moved since: counted
    over participants who gave a grade (1-10) in both rounds; null when fewer than k did."""

    round: int
    moved_left: int | None
    moved_right: int | None
    stayed: int | None
    not_again: int | None = Field(
        default=None,
        description="People who graded the statement last round and gave no grade this round "
        "(the shift is counted without them); null with the shift.",
    )


class StatementSpectrum(Figures):
    statement_id: str
    insight: Insight
    previous: RoundShift | None = None
    # Where the group wants to be on the statement (rooms that ask for it).
    desired: Figures | None = None
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


class RoomSettings(RoomConfig, RoomFlow):
    """The room as a snapshot shows it: its configuration, its flow, and how to reach it."""

    join_code: str
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
    # A facilitator who came in by a co-facilitator link (revocable; cannot delete the room
    # or hand out links), so that the console leaves out what it may not do.
    co_facilitator: bool = False
    group_fixed: bool = Field(
        default=False,
        description="The participant has answered in this room (a cleared answer counts): its group can no "
        "longer change (`group_fixed`).",
    )


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
    """Coalesced like the spectrum: how many are connected right now. `online` counts
    people (a participant with two tabs once), `consoles` facilitator connections,
    `screens` read-only views; `participants` is every identity that ever joined."""

    type: Literal["presence"] = "presence"
    online: int
    participants: int
    consoles: int = 0
    screens: int = 0


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


class RoomUpdated(_Event, RoomConfig):
    """The whole configuration as it is now, whichever field changed."""

    model_config = ConfigDict(extra="forbid", frozen=False)  # the room gives it its seq
    type: Literal["room_updated"] = "room_updated"


class ParticipantJoined(_Event):
    """Sent to facilitators and to the participant itself."""

    type: Literal["participant_joined"] = "participant_joined"
    participant: ParticipantPublic


class ParticipantUpdated(_Event):
    """Sent to the participant and the facilitators only: others see a name on the notes it signs."""

    type: Literal["participant_updated"] = "participant_updated"
    participant: ParticipantPublic


class ScoreSet(_Event):
    """Sent only to the participant who scored (all of its connections)."""

    type: Literal["score_set"] = "score_set"
    statement_id: str
    kind: ScoreKind
    round: int
    value: Answer | None
    # Whose answer it is (app/board.py): kept with the event inside the server, never sent,
    # since the one who receives it is the one who answered.
    respondent_id: str | None = Field(default=None, exclude=True)


class MyVote(_Event):
    """Sent only to the voter: whether it now votes for the note."""

    type: Literal["my_vote"] = "my_vote"
    note_id: str
    voted: bool


class ScreenChanged(_Event):
    type: Literal["screen_changed"] = "screen_changed"
    screen: ScreenState


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
    | ScreenChanged
    | RoomDeleted,
    Field(discriminator="type"),
]
ServerMessage = Annotated[Welcome | Ack | Error | Pong | Presence | Spectrum | Event, Field(discriminator="type")]

client_message_adapter: TypeAdapter[Hello | Ping | Command] = TypeAdapter(ClientMessage)
server_message_adapter: TypeAdapter[Any] = TypeAdapter(ServerMessage)


def models_of(union: Any) -> list[type[BaseModel]]:
    """The models of a (possibly Annotated, possibly nested) union of messages, in order:
    what the AsyncAPI document, the metrics' label sets and the docs' tests go over."""
    if isinstance(union, type) and issubclass(union, BaseModel):
        return [union]
    origin = get_origin(union)
    if origin is Annotated:
        return models_of(get_args(union)[0])
    if origin in (Union, UnionType):
        return [model for arg in get_args(union) for model in models_of(arg)]
    raise TypeError(f"not a union of models: {union!r}")


def type_of(model: type[BaseModel]) -> str:
    """The message's `type` on the wire."""
    annotation = model.model_fields["type"].annotation
    if get_origin(annotation) is not Literal:
        raise TypeError(f"{model.__name__}.type is not a Literal")
    (value,) = get_args(annotation)
    return str(value)
