"""The built-in workshop templates, loaded from the JSON files beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.templates.model import LANGUAGES, Language, Template

__all__ = ["DEFAULT_TEMPLATE_ID", "LANGUAGES", "Language", "Template", "builtin_templates"]

DEFAULT_TEMPLATE_ID = "tjanstelogik"
_HERE = Path(__file__).parent


@lru_cache
def builtin_templates() -> dict[str, Template]:
    """Every built-in template by id; a malformed file fails loudly at start, not in a room."""
    templates = {}
    for path in sorted(_HERE.glob("*.json")):
        template = Template.model_validate_json(path.read_text(encoding="utf-8"))
        templates[template.id] = template
    return templates
