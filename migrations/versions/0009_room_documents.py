"""the room's configuration and flow as JSON documents (expand only)

Adds `room.config_json` and `room.flow_json` and fills them from the columns the fields lie
in today, so that a field added to `RoomConfig` or `RoomFlow` from now on needs no column and
no migration (app/rows.py). It only expands: the old columns stay, and the new version keeps
writing them, so an instance of the previous version, which may serve beside the new one
during a rolling upgrade, reads current values; a row that instance inserts
gets "{}" for both documents, and the new version reads the old columns over the documents.

The contract step, in two later releases (app/rows.py), each deployed once no instance of
the release before it runs. The first, once no instance of the previous version runs: its
migration sets the old fields' keys of both documents again from the old columns (`_fill`
below, keeping the other keys: a room the previous version changed last is current only in
the columns), after an ALTER TABLE in the same transaction, whose lock keeps instances from
writing in between, and makes the old columns nullable; its code reads and writes the
documents alone, marking each document it writes with app/rows.py's `COLUMNS_RETIRED`, so
that an instance of this version, which still writes the columns and reads them over the
documents, reads that room from its documents. The second, once no instance of this version
runs: its migration drops `title`, `language`, `groups_json`, `group_min_size`,
`desired_enabled`, `case_number`, `phase`, `results_visible`, `voting_locked`,
`timer_ends_at`, `round` and `screen_json` (`join_code` and `expires_at` stay: they are
looked up), and app/models.py loses them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00.000000
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The room table as this migration knows it: not app.models, which moves on.
room = sa.table(
    "room",
    sa.column("id", sa.String()),
    sa.column("config_json", sa.Text()),
    sa.column("flow_json", sa.Text()),
    sa.column("title", sa.String()),
    sa.column("language", sa.String()),
    sa.column("groups_json", sa.Text()),
    sa.column("group_min_size", sa.Integer()),
    sa.column("desired_enabled", sa.Boolean()),
    sa.column("case_number", sa.String()),
    sa.column("phase", sa.String()),
    sa.column("results_visible", sa.Boolean()),
    sa.column("voting_locked", sa.Boolean()),
    sa.column("timer_ends_at", sa.DateTime(timezone=True)),
    sa.column("round", sa.Integer()),
    sa.column("screen_json", sa.Text()),
)


def _utc(value: datetime | None) -> str | None:
    """A time as RoomFlow writes it in JSON (SQLite forgets the zone: its times are UTC)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _documents(row: Any) -> dict[str, str]:
    config = {
        "title": row.title,
        "language": row.language,
        "groups": json.loads(row.groups_json),
        "group_min_size": row.group_min_size,
        "desired_enabled": row.desired_enabled,
        "case_number": row.case_number,
    }
    flow = {
        "phase": row.phase,
        "results_visible": row.results_visible,
        "voting_locked": row.voting_locked,
        "timer_ends_at": _utc(row.timer_ends_at),
        "round": row.round,
        "screen": json.loads(row.screen_json),
    }
    return {"config_json": json.dumps(config), "flow_json": json.dumps(flow)}


def _fill() -> None:
    """Both documents of every room from its columns, a thousand rooms at a time."""
    connection = op.get_bind()
    columns = [c for c in room.c if c.name not in ("config_json", "flow_json")]
    update = room.update().where(room.c.id == sa.bindparam("room_id"))
    last = ""
    while True:
        query = sa.select(*columns).where(room.c.id > last).order_by(room.c.id).limit(1000)
        rows = connection.execute(query).all()
        if not rows:
            return
        connection.execute(update, [{"room_id": row.id, **_documents(row)} for row in rows])
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.add_column(sa.Column("config_json", sa.Text(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("flow_json", sa.Text(), nullable=False, server_default="{}"))
    _fill()


def downgrade() -> None:
    # Nothing is lost: the old columns were kept current all along, and no field lives
    # in a document alone yet.
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.drop_column("flow_json")
        batch_op.drop_column("config_json")
