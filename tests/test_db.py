"""The engine as app/db.py makes it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import make_engine
from tests.conftest import require_postgres
from tests.servers import POSTGRES_ADMIN_URL


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_failed_statement_logs_no_parameters(backend: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A failing write is logged with its exception; the exception must not carry the
    statement's parameters, which are token hashes and people's text (issue 17)."""
    if backend == "postgres":
        require_postgres()
    url = f"sqlite:///{tmp_path / 'db.sqlite'}" if backend == "sqlite" else POSTGRES_ADMIN_URL
    engine = make_engine(url)
    secret = "hemlig-token-hash-9f2c"
    try:
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE token_hash = :token"), {"token": secret})
        logging.getLogger("samskapa").error("store write failed", exc_info=failed.value)
    finally:
        engine.dispose()
    assert "no_such_table" in caplog.text, "the statement itself is still there to debug with"
    assert secret not in caplog.text and secret not in str(failed.value)
