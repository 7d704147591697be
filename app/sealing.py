"""Sealing: a short text encrypted with this server's key, so a file can carry it without
anyone who reads the file being able to read it (AES-GCM, a fresh nonce each time).

Used for the group of each answer in an export: the file must let the group be restored
when it is imported here again, yet never let its reader tie a group, however small, to
answers (docs/export.md). The key lives in the database (app/store.py), so every instance
of a deployment shares it; a file sealed by another deployment cannot be opened.
Must not import the rest of the app.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
# Every text is padded to this many bytes before sealing: a seal's length must not tell
# one group from another (or "no group" from a group).
SEALED_TEXT_BYTES = 64


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, text: str, purpose: str) -> str:
        """`text` encrypted and authenticated for `purpose` (a sealed group cannot be passed
        off as anything else); a different result each time, so equal texts look unrelated."""
        data = text.encode()
        if len(data) >= SEALED_TEXT_BYTES:
            raise ValueError(f"at most {SEALED_TEXT_BYTES - 1} bytes can be sealed")
        padded = bytes([len(data)]) + data.ljust(SEALED_TEXT_BYTES - 1, b"\0")
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, padded, purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, sealed: str, purpose: str) -> str | None:
        """The text, or None when it was not sealed by this key for this purpose."""
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            padded = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
            return padded[1 : 1 + padded[0]].decode()
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError):
            return None

    def seal_bytes(self, data: bytes, purpose: str) -> str:
        """`data` encrypted and authenticated for `purpose`, unpadded: for data whose
        length the caller has made say nothing (a fixed-width encoding of public counts)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, data, purpose.encode())).decode().rstrip("=")

    def open_bytes(self, sealed: str, purpose: str) -> bytes | None:
        """The data, or None when it was not sealed by this key for this purpose."""
        try:
            raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
        except (InvalidTag, ValueError, binascii.Error):
            return None
