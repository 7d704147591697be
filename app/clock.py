"""The one clock of the app: every moment it stores or sends is UTC and timezone-aware.

A module of its own so that the routes, the rooms and the store read time the same way
without importing each other. Must not import the rest of the app.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the app is UTC-aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
