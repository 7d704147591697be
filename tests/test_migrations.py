"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables)
from app.db import make_engine, migrate
from tests.conftest import BACKENDS, require_postgres
from tests.servers import fresh_postgres_database


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    require_postgres()
    with fresh_postgres_database() as url:
        yield url


def test_migrations_match_the_models(empty_database: str) -> None:
    migrate(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert differences == [], f"models and migrations disagree: {differences}"
    assert {"room", "participant", "note", "notevote", "score", "appliedcommand"} <= tables


def test_migrating_twice_is_harmless(empty_database: str) -> None:
    migrate(empty_database)
    migrate(empty_database)
