"""The UI's locale files, read on the server too, so an exported report speaks the room's
language with the same words as the app (one source of truth: frontend/locales/*.json)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from app.templates.model import Language

LOCALES_DIR = Path(__file__).resolve().parent.parent / "frontend" / "locales"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

Translate = Callable[..., str]


@lru_cache
def messages(language: Language) -> dict[str, str]:
    return json.loads((LOCALES_DIR / f"{language}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def translator(language: Language) -> Translate:
    own, fallback = messages(language), messages("sv")

    def t(key: str, **params: object) -> str:
        template = own.get(key) or fallback.get(key) or key
        return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)

    return t
