"""The room's configuration and flow lie in the room row as two JSON documents (app/rows.py).

Nothing here names a field: every field of `RoomConfig` and `RoomFlow` is generated from the
models' own schema, never at its default, and goes through a real database (SQLite and
PostgreSQL) and back, in a new row and through the events that change it. A field added to
either is tested the day it is added, without editing this file; a type the generator does
not know yet fails with what to teach it.
"""

from __future__ import annotations

import json
import secrets
import string
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, insert, select, update

from app import models as m
from app import protocol as p
from app.clock import as_utc
from app.db import alembic_config, make_engine, migrate
from app.rows import COLUMNS_RETIRED, PREVIOUS_COLUMNS, config_of, flow_fields, flow_of, room_row, table
from app.store import Store, StoredCommand
from app.templates import builtin_templates
from tests.conftest import BACKENDS, require_postgres
from tests.servers import fresh_postgres_database

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
TEMPLATE = builtin_templates()["tjanstelogik"]
# Rooms in a test's database get join codes of their own: the column is unique.
_codes = count(100_000)

# Each example writes and reads a few rows; a real database makes them slow, not flaky.
ROUND_TRIPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- values from the models


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Raw JSON values of a pydantic JSON schema (the shapes' validation decides the rest)."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([from_schema(option, defs) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    match schema.get("type"):
        case "null":
            return st.none()
        case "boolean":
            return st.booleans()
        case "integer":
            # A stored integer is a 32-bit one (PostgreSQL's INTEGER).
            return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31 - 1))
        case "string" if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        case "string" if schema.get("format") == "date-time":
            times = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
            return times.map(datetime.isoformat)
        case "string":
            # Never blank: a blank text reads as empty or as none, which is a field's default.
            letters = string.ascii_letters + string.digits + " -/åäöÅÄÖ"
            longest = schema.get("maxLength", 60)
            return st.text(letters, min_size=max(schema.get("minLength", 0), 1), max_size=longest).filter(str.strip)
        case "array":
            items = from_schema(schema["items"], defs)
            return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 4), 4))
        case "object":
            properties = schema.get("properties", {})
            return st.fixed_dictionaries({name: from_schema(value, defs) for name, value in properties.items()})
    raise AssertionError(f"tests/test_rows.py cannot generate {schema}: teach from_schema this type")


Shape = TypeVar("Shape", bound=BaseModel)


def _valid(shape: type[Shape], raw: dict[str, Any]) -> Shape | None:
    try:
        return shape.model_validate(raw)
    except ValidationError:
        return None


def unlike(schema: dict[str, Any], default: Any) -> dict[str, Any]:
    """The schema without its default value where it says how (rejecting the default after
    generating it would throw away half of every boolean's examples)."""
    if "anyOf" in schema:
        return {
            **schema,
            "anyOf": [
                unlike(option, default)
                for option in schema["anyOf"]
                if option != {"type": "null"} or default is not None
            ],
        }
    if "enum" in schema:
        return {**schema, "enum": [value for value in schema["enum"] if value != default]}
    match schema.get("type"), default:
        case "boolean", bool():
            return {"const": not default}
        case "integer", int():
            below = {**schema, "maximum": default - 1}
            above = {**schema, "minimum": default + 1}
            return {
                "anyOf": [
                    side for side in (below, above) if side.get("minimum", -(2**31)) <= side.get("maximum", 2**31 - 1)
                ]
            }
        case "array", []:
            return {**schema, "minItems": max(schema.get("minItems", 0), 1)}
    return schema


def non_default(shape: type[Shape]) -> st.SearchStrategy[Shape]:
    """The shape with every one of its fields set, none at its default."""
    schema = shape.model_json_schema()
    defs = schema.get("$defs", {})
    fields = {}
    for name, field_schema in schema["properties"].items():
        field = shape.model_fields[name]
        if field.is_required():
            fields[name] = from_schema(field_schema, defs)
        else:
            default = to_jsonable_python(field.get_default(call_default_factory=True))
            fields[name] = from_schema(unlike(field_schema, default), defs)
    defaults = {name: field.get_default(call_default_factory=True) for name, field in shape.model_fields.items()}
    return (
        st.fixed_dictionaries(fields)
        .map(lambda raw: _valid(shape, raw))
        .filter(lambda made: made is not None and all(getattr(made, n) != d for n, d in defaults.items()))
        .map(lambda made: typing.cast(Shape, made))
    )


# ---------------------------------------------------------------- the previous version


def as_the_previous_version_writes(config: p.RoomConfig, flow: p.RoomFlow) -> dict[str, Any]:
    """The room row's columns as the version before migration 0009 wrote them: each field in
    a column of its name, or as JSON in `name_json` for a list or a model."""
    columns: dict[str, Any] = {}
    for name, value in [*dict(config).items(), *dict(flow).items()]:
        if name not in PREVIOUS_COLUMNS:
            continue  # a field added since: that version does not know it
        if isinstance(value, list | BaseModel):
            columns[f"{name}_json"] = json.dumps(to_jsonable_python(value))
        else:
            columns[name] = value
    return columns


def as_the_previous_version_reads(row: m.Room) -> dict[str, Any]:
    """The fields the version before migration 0009 reads from a room row, as it read them
    (a column by name, or JSON in `name_json`), each as its shape takes it."""
    raw: dict[str, Any] = {}
    for name, column in PREVIOUS_COLUMNS.items():
        value = getattr(row, column)
        if column == f"{name}_json":
            raw[name] = json.loads(value)
        else:  # SQLite forgets the zone: its times are UTC
            raw[name] = as_utc(value) if isinstance(value, datetime) else value
    config = p.RoomConfig.model_validate({n: v for n, v in raw.items() if n in p.RoomConfig.model_fields})
    flow = p.RoomFlow.model_validate({n: v for n, v in raw.items() if n in p.RoomFlow.model_fields})
    return known_to_the_previous_version(config, flow)


def known_to_the_previous_version(config: p.RoomConfig, flow: p.RoomFlow) -> dict[str, Any]:
    """The fields the previous version knows, with their values."""
    both = {**dict(config), **dict(flow)}
    return {name: value for name, value in both.items() if name in PREVIOUS_COLUMNS}


def known(written: Shape, over: Shape) -> Shape:
    """`over` with the fields the previous version knows as they are in `written`: what a
    room holding `over` holds after that version wrote `written` into it."""
    fields = type(written).model_fields
    return over.model_copy(update={name: getattr(written, name) for name in fields if name in PREVIOUS_COLUMNS})


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="module", params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('rows') / 'rows.db'}"
        return
    require_postgres()
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def store(empty_url: str) -> Iterator[Store]:
    migrate(empty_url)
    made = Store(make_engine(empty_url))
    yield made
    made.close()


def stored(store: Store, config: p.RoomConfig, flow: p.RoomFlow) -> str:
    """A new room with this configuration and flow, stored as the app stores one."""
    room_id = "r_" + secrets.token_hex(8)
    row = room_row(room_id, TEMPLATE, config, flow, NOW, NOW + timedelta(days=30))
    row.join_code = str(next(_codes))
    store.create_room(row)
    return room_id


def loaded(store: Store, room_id: str) -> m.Room:
    found = store.load_room(room_id)
    assert found is not None
    return found.room


def documents(row: m.Room) -> tuple[p.RoomConfig, p.RoomFlow]:
    """The configuration and flow as the documents alone hold them (what the contract step
    leaves to read)."""
    return p.RoomConfig.model_validate_json(row.config_json), p.RoomFlow.model_validate_json(row.flow_json)


def set_document_key(engine: Engine, room_id: str, document: str, change: Any) -> None:
    """Edit a stored document by hand: `change` gets it as a dict."""
    rooms = table(m.Room)
    with engine.begin() as db:
        found = json.loads(db.execute(select(rooms.c[document]).where(rooms.c.id == room_id)).scalar_one())
        change(found)
        db.execute(update(rooms).where(rooms.c.id == room_id).values({document: json.dumps(found)}))


def event_types() -> list[type[BaseModel]]:
    (union, *_) = typing.get_args(p.Event)
    return list(typing.get_args(union))


# ---------------------------------------------------------------- round trips


@ROUND_TRIPS
@given(config=non_default(p.RoomConfig), flow=non_default(p.RoomFlow))
def test_every_field_comes_back_from_a_new_row(store: Store, config: p.RoomConfig, flow: p.RoomFlow) -> None:
    row = loaded(store, stored(store, config, flow))
    assert (config_of(row), flow_of(row)) == (config, flow)
    assert documents(row) == (config, flow), "the documents alone must hold every field"
    assert as_the_previous_version_reads(row) == known_to_the_previous_version(config, flow), (
        "an instance of the previous version must read what this one wrote"
    )


def test_every_flow_field_is_set_by_an_event_that_carries_it_by_name() -> None:
    set_by_events = {flow for event in event_types() for flow in flow_fields(event).values()}
    assert set_by_events == set(p.RoomFlow.model_fields), (
        "a flow field needs an event carrying it under its own name, and nothing but flow fields"
    )


@ROUND_TRIPS
@given(config=non_default(p.RoomConfig), flow=non_default(p.RoomFlow))
def test_every_field_comes_back_after_the_events_that_set_it(
    store: Store, config: p.RoomConfig, flow: p.RoomFlow
) -> None:
    room_id = stored(store, p.RoomConfig(title="Före", language="sv"), p.RoomFlow())
    events: list[p.Event] = [p.RoomUpdated(**dict(config))]
    for event_type in event_types():
        carried = flow_fields(event_type)
        if carried:
            # Only the fields the flow takes: TimerChanged's seconds are no part of it.
            made = event_type.model_construct(**{name: getattr(flow, field) for name, field in carried.items()})
            events.append(typing.cast(p.Event, made))
    store.commit_events(room_id, [StoredCommand("facilitator", None, events)], seq=len(events))
    row = loaded(store, room_id)
    assert (config_of(row), flow_of(row)) == (config, flow)
    assert documents(row) == (config, flow), "the events must change the documents, not only the old columns"
    assert as_the_previous_version_reads(row) == known_to_the_previous_version(config, flow)


def test_a_naive_time_from_sqlite_comes_back_as_utc() -> None:
    row = room_row("r1", TEMPLATE, p.RoomConfig(title="T", language="sv"), p.RoomFlow(), NOW, NOW)
    row.timer_ends_at = datetime(2026, 5, 4, 9, 35)
    assert flow_of(row).timer_ends_at == datetime(2026, 5, 4, 9, 35, tzinfo=UTC)


# ---------------------------------------------------------------- rolling upgrades


@pytest.fixture(params=BACKENDS)
def before_0009(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database as the previous version left it: migrated up to 0008."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
        make_engine(url).dispose()
        command.upgrade(alembic_config(url), "0008")
        yield url
        return
    require_postgres()
    with fresh_postgres_database() as url:
        command.upgrade(alembic_config(url), "0008")
        yield url


def insert_as_the_previous_version(engine: Engine, config: p.RoomConfig, flow: p.RoomFlow) -> str:
    room_id = "r_" + secrets.token_hex(8)
    with engine.begin() as db:
        db.execute(
            insert(table(m.Room)).values(
                id=room_id,
                join_code=str(next(_codes)),
                template_json=TEMPLATE.model_dump_json(),
                seq=0,
                facilitator_token_hash="",
                created_at=NOW,
                expires_at=NOW + timedelta(days=30),
                **as_the_previous_version_writes(config, flow),
            )
        )
    return room_id


def test_rooms_of_the_previous_version_read_the_same_after_migration_0009(before_0009: str) -> None:
    engine = make_engine(before_0009)
    rooms: dict[str, tuple[p.RoomConfig, p.RoomFlow]] = {}

    @ROUND_TRIPS
    @given(config=non_default(p.RoomConfig), flow=non_default(p.RoomFlow))
    def written_before(config: p.RoomConfig, flow: p.RoomFlow) -> None:
        rooms[insert_as_the_previous_version(engine, config, flow)] = (config, flow)

    try:
        written_before()
        rooms[insert_as_the_previous_version(engine, p.RoomConfig(title="T", language="sv"), p.RoomFlow())] = (
            p.RoomConfig(title="T", language="sv"),
            p.RoomFlow(),
        )
        migrate(before_0009)
        store = Store(engine)
        for room_id, (config, flow) in rooms.items():
            row = loaded(store, room_id)
            # A field added since 0009 the previous version never wrote: it reads its default.
            expected = (known(config, p.RoomConfig(title="T", language="sv")), known(flow, p.RoomFlow()))
            assert (config_of(row), flow_of(row)) == expected
            assert documents(row) == expected, "migration 0009 fills the documents from the old columns"
    finally:
        engine.dispose()


@ROUND_TRIPS
@given(config=non_default(p.RoomConfig), flow=non_default(p.RoomFlow))
def test_a_room_the_previous_version_writes_after_the_migration_reads_as_it_wrote_it(
    store: Store, config: p.RoomConfig, flow: p.RoomFlow
) -> None:
    """During a rolling upgrade the previous version still serves: it inserts rooms without
    documents and changes the old columns only. This version reads what it wrote."""
    created = insert_as_the_previous_version(store.engine, p.RoomConfig(title="T", language="sv"), p.RoomFlow())
    row = loaded(store, created)
    assert (config_of(row), flow_of(row)) == (p.RoomConfig(title="T", language="sv"), p.RoomFlow())

    before = (p.RoomConfig(title="Före", language="sv"), p.RoomFlow())
    changed = stored(store, *before)
    rooms = table(m.Room)
    with store.engine.begin() as db:
        db.execute(update(rooms).where(rooms.c.id == changed).values(**as_the_previous_version_writes(config, flow)))
    row = loaded(store, changed)
    # What it knows as it wrote it; a field added since stays as this version stored it.
    assert (config_of(row), flow_of(row)) == (known(config, before[0]), known(flow, before[1]))


class LaterConfig(p.RoomConfig):
    """RoomConfig as a later version may have it: one field more."""

    added_later: int = 7


class LaterFlow(p.RoomFlow):
    added_later: str = "förval"


def test_a_field_added_later_needs_no_column_and_reads_its_default_where_a_document_lacks_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(p, "RoomConfig", LaterConfig)
    monkeypatch.setattr(p, "RoomFlow", LaterFlow)
    room_id = stored(store, LaterConfig(title="T", language="sv", added_later=12), LaterFlow(added_later="satt"))
    row = loaded(store, room_id)
    assert (config_of(row), flow_of(row)) == (
        LaterConfig(title="T", language="sv", added_later=12),
        LaterFlow(added_later="satt"),
    ), "a new field round-trips with no column of its own"

    # A row written before the field existed: its documents lack the key.
    set_document_key(store.engine, room_id, "config_json", lambda document: document.pop("added_later"))
    set_document_key(store.engine, room_id, "flow_json", lambda document: document.pop("added_later"))
    row = loaded(store, room_id)
    assert config_of(row) == LaterConfig(title="T", language="sv")
    assert flow_of(row) == LaterFlow()


def test_a_key_of_a_newer_version_is_ignored_when_read_and_kept_when_the_document_changes(store: Store) -> None:
    room_id = stored(store, p.RoomConfig(title="T", language="sv"), p.RoomFlow())
    for document in ("config_json", "flow_json"):
        set_document_key(store.engine, room_id, document, lambda found: found.update(from_a_newer_version=[1, 2]))
    assert config_of(loaded(store, room_id)) == p.RoomConfig(title="T", language="sv")

    events: list[p.Event] = [p.RoomUpdated(title="Efter", language="fi"), p.PhaseChanged(phase="grade")]
    store.commit_events(room_id, [StoredCommand("facilitator", None, events)], seq=2)
    row = loaded(store, room_id)
    assert config_of(row) == p.RoomConfig(title="Efter", language="fi")
    assert flow_of(row).phase == "grade"
    assert json.loads(row.config_json)["from_a_newer_version"] == [1, 2]
    assert json.loads(row.flow_json)["from_a_newer_version"] == [1, 2]


def test_a_document_marked_by_a_version_without_the_old_columns_is_read_alone(store: Store) -> None:
    """The contract step's first release stops writing the old columns and marks what it
    writes; this version, still running beside it, must not read the stale columns over it."""
    room_id = stored(store, p.RoomConfig(title="Gammal", language="sv"), p.RoomFlow(phase="grade"))

    set_document_key(
        store.engine, room_id, "config_json", lambda found: found.update({COLUMNS_RETIRED: True, "title": "Ny"})
    )
    set_document_key(
        store.engine, room_id, "flow_json", lambda found: found.update({COLUMNS_RETIRED: True, "phase": "reflect"})
    )
    row = loaded(store, room_id)
    assert (config_of(row).title, flow_of(row).phase) == ("Ny", "reflect")
    assert (row.title, row.phase) == ("Gammal", "grade"), "the old columns were left as they were"
