"""The database tables (SQLModel). Alembic's migrations in migrations/ must match these;
tests/test_migrations.py fails when they drift apart.

Rows are a projection of the room's events (see app/store.py); the live room in memory is
the authority while it runs, the database is what survives a restart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Room(SQLModel, table=True):
    """A room. Its configuration and flow (`RoomConfig`, `RoomFlow`) lie in `config_json` and
    `flow_json`, one JSON document each, so a field added to them needs no column here
    (app/rows.py). The columns named like their fields (`title`, `groups_json`, `phase`,
    `screen_json`…: app/rows.py's PREVIOUS_COLUMNS) are where the version before migration
    0009 kept them: still written, until a later migration drops them."""

    id: str = Field(primary_key=True, max_length=64)
    join_code: str = Field(max_length=6, unique=True, index=True)
    # The server default is for rows the previous version inserts: it knows no documents.
    config_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    flow_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    title: str = Field(max_length=120)
    language: str = Field(max_length=8)
    template_json: str = Field(sa_column=Column(Text, nullable=False))
    phase: str = Field(max_length=16)
    results_visible: bool
    voting_locked: bool
    timer_ends_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    groups_json: str = Field(sa_column=Column(Text, nullable=False))
    group_min_size: int = 3
    desired_enabled: bool = False
    case_number: str | None = Field(default=None, max_length=40)
    round: int = 1
    # What the room's screen shows (ScreenState, as JSON).
    screen_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    seq: int = 0
    facilitator_token_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))


class Participant(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(foreign_key="room.id", index=True, max_length=64, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    name: str | None = Field(default=None, max_length=60)
    group: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=_utc_column())


class CoFacilitator(SQLModel, table=True):
    """A co-facilitator link's key, handed out by the room's facilitator: it runs the room
    like the facilitator's own key but cannot delete the room or hand out links. Revoking it
    deletes the row, so the store is where every use is checked (on any instance)."""

    id: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(foreign_key="room.id", index=True, max_length=64, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    # The facilitator's own note of whom it was for ("Anna"); optional.
    label: str | None = Field(default=None, max_length=60)
    created_at: datetime = Field(sa_column=_utc_column())
    # The first time it was accepted (a console or an export): whether it was ever used.
    used_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class Note(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(foreign_key="room.id", index=True, max_length=64, ondelete="CASCADE")
    area_id: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    color: str = Field(max_length=16)
    author_id: str = Field(max_length=64)
    statement_id: str | None = Field(default=None, max_length=64)
    # The author's name, for a note whose author is not a participant of this room (an
    # imported one); else the participant's name is used, as it is now.
    author_name: str | None = Field(default=None, max_length=60)
    position: float
    version: int
    created_at: datetime = Field(sa_column=_utc_column())
    updated_at: datetime = Field(sa_column=_utc_column())


class NoteVote(SQLModel, table=True):
    note_id: str = Field(foreign_key="note.id", primary_key=True, max_length=64, ondelete="CASCADE")
    voter_id: str = Field(primary_key=True, max_length=64)
    room_id: str = Field(foreign_key="room.id", index=True, max_length=64, ondelete="CASCADE")


class Respondent(SQLModel, table=True):
    """Someone whose answers count without a socket of their own: a respondent of an
    imported workshop (later a paper sheet typed in by the facilitator). A participant is
    its own respondent and has no row here. Their answers are `Score` rows under this id."""

    room_id: str = Field(foreign_key="room.id", primary_key=True, max_length=64, ondelete="CASCADE")
    id: str = Field(primary_key=True, max_length=64)
    group: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=_utc_column())


class Score(SQLModel, table=True):
    """One answer: its key has room for rounds, kinds (today/desired) and more statements."""

    room_id: str = Field(foreign_key="room.id", primary_key=True, max_length=64, ondelete="CASCADE")
    # The respondent's id (a participant's, or a Respondent row's): named before respondents
    # had a table, kept so that instances of the previous version read it during an upgrade.
    participant_id: str = Field(primary_key=True, max_length=64)
    round: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=16)
    statement_id: str = Field(primary_key=True, max_length=64)
    value: int


class AppliedCommand(SQLModel, table=True):
    """Client command ids already applied, so a command re-sent after a restart is a no-op."""

    room_id: str = Field(foreign_key="room.id", primary_key=True, max_length=64, ondelete="CASCADE")
    actor_id: str = Field(primary_key=True, max_length=64)
    cid: str = Field(primary_key=True, max_length=64)
    seq: int


class ServerKey(SQLModel, table=True):
    """Secrets of the whole deployment, shared by its instances through the database (the
    key that seals groups in exports, app/sealing.py)."""

    name: str = Field(primary_key=True, max_length=32)
    value: str = Field(max_length=128)
