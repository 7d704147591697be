"""The room's configuration and flow lie in the room row field by field, by name.

app/rows.py maps them generically, so a field added to `RoomConfig` or `RoomFlow` needs only a
column of the same name (and a migration); these tests fail the day one is forgotten.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app import models as m
from app import protocol as p
from app.rows import config_of, flow_of, room_row
from app.templates import builtin_templates

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def test_every_configuration_and_flow_field_has_a_column_of_its_name() -> None:
    columns = set(m.Room.model_fields)
    fields = set(p.RoomConfig.model_fields) | set(p.RoomFlow.model_fields)
    missing = [name for name in fields if name not in columns and f"{name}_json" not in columns]
    assert not missing, f"fields without a column (name, or name_json) in app/models.py: {sorted(missing)}"


def test_a_room_row_gives_back_the_configuration_and_flow_it_was_made_from() -> None:
    config = p.RoomConfig(
        title="Äldreomsorgen Åmål",
        language="fi",
        groups=[p.GroupDef(id="chefer", name="Chefer"), p.GroupDef(id="staff", name="Medarbetare")],
        group_min_size=4,
        desired_enabled=True,
        case_number="KS 2026/123",
    )
    flow = p.RoomFlow(
        phase="document",
        results_visible=True,
        voting_locked=True,
        timer_ends_at=NOW + timedelta(minutes=5),
        round=3,
        screen=p.ScreenState(view="statement", statement_id="s4"),
    )
    row = room_row("r1", builtin_templates()["tjanstelogik"], config, flow, NOW, NOW + timedelta(days=30))
    assert config_of(row) == config
    assert flow_of(row) == flow


def test_a_naive_time_from_sqlite_comes_back_as_utc() -> None:
    row = room_row(
        "r1", builtin_templates()["tjanstelogik"], p.RoomConfig(title="T", language="sv"), p.RoomFlow(), NOW, NOW
    )
    row.timer_ends_at = datetime(2026, 5, 4, 9, 35)
    assert flow_of(row).timer_ends_at == datetime(2026, 5, 4, 9, 35, tzinfo=UTC)
