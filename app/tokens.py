"""Secrets: room and participant tokens, kept only as hashes.

Must not import the rest of the app.
"""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes: a leaked database leaks no way into a room."""
    return hashlib.sha256(token.encode()).hexdigest()
