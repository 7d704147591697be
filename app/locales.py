"""The UI's locale files, read on the server too, so an exported report speaks the room's
language with the same words as the app (one source of truth: frontend/locales/*.json).

A count is passed as `n`; a message whose words change with it has its forms as sibling
keys named by the language's plural category (`report.votes.one`), chosen by the CLDR rule
of the language (Babel), as the browser does with Intl.PluralRules (frontend/js/i18n.js)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel import Locale

from app.templates.model import Language

LOCALES_DIR = Path(__file__).resolve().parent.parent / "frontend" / "locales"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

Translate = Callable[..., str]


@lru_cache
def messages(language: Language) -> dict[str, str]:
    return json.loads((LOCALES_DIR / f"{language}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def translator(language: Language) -> Translate:
    own, fallback = messages(language), messages("sv")
    locale = Locale.parse(language)

    def t(key: str, **params: object) -> str:
        count = params.get("n")
        category = locale.plural_form(count) if isinstance(count, int | float) else None

        def pick(table: dict[str, str]) -> str | None:
            return (table.get(f"{key}.{category}") if category else None) or table.get(key)

        template = pick(own) or pick(fallback) or key
        return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)

    return t
