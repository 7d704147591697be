"""Secrets: room and participant tokens, kept only as hashes.

Must not import the rest of the app.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes: a leaked database leaks no way into a room."""
    return hashlib.sha256(token.encode()).hexdigest()


def matching(token_hash: str, candidates: Iterable[tuple[str, T]]) -> T | None:
    """The value of the candidate whose hash is `token_hash`, or None. Every candidate is
    compared, each in constant time, so how long it takes says nothing of which one (or how
    much of one) matched: a handful of co-facilitator keys, not a table to search."""
    found: T | None = None
    for candidate_hash, value in candidates:
        if hmac.compare_digest(candidate_hash, token_hash):
            found = value
    return found
