"""docs/architecture.md's module table is held against the code: every module of app/ has a
row, and no module imports what its row says it must not.

The rule is read from the table's last column: backticked modules or packages it must not
import (a package covers its modules), except those named after the word "but".
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
APP = ROOT / "app"


@dataclass(frozen=True)
class Rule:
    places: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...]


def rules() -> list[Rule]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    found = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`app/"):
            continue
        rule_text = cells[2]
        forbidden_text, _, allowed_text = rule_text.partition(" but ")
        found.append(
            Rule(
                places=tuple(re.findall(r"`([^`]+)`", cells[0])),
                forbidden=tuple(re.findall(r"`([^`]+)`", forbidden_text)),
                allowed=tuple(re.findall(r"`([^`]+)`", allowed_text)),
            )
        )
    return found


def files_of(place: str) -> list[Path]:
    path = ROOT / place
    return sorted(path.glob("*.py")) if place.endswith("/") else [path]


def imports_of(path: Path) -> set[str]:
    """Every module the file imports, as dotted names (`from app import x` is `app.x`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "app":
                names.update(f"app.{alias.name}" for alias in node.names)
    return names


def covered(name: str, modules: tuple[str, ...]) -> bool:
    return any(name == module or name.startswith(module + ".") for module in modules)


def test_every_module_of_the_app_has_a_row() -> None:
    documented = {path for rule in rules() for place in rule.places for path in files_of(place)}
    modules = set(APP.rglob("*.py"))
    missing = sorted(str(path.relative_to(ROOT)) for path in modules - documented)
    assert not missing, f"modules without a row in docs/architecture.md: {missing}"


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: ", ".join(rule.places))
def test_no_module_imports_what_its_row_forbids(rule: Rule) -> None:
    assert rule.forbidden, f"the row of {rule.places} names nothing it must not import"
    for place in rule.places:
        for path in files_of(place):
            assert path.exists(), f"docs/architecture.md names {place}, which does not exist"
            own = "app." + ".".join(path.relative_to(APP).with_suffix("").parts)
            broken = sorted(
                name
                for name in imports_of(path)
                if covered(name, rule.forbidden) and not covered(name, rule.allowed) and name != own
            )
            assert not broken, f"{path.relative_to(ROOT)} imports {broken}, which its row forbids"


def test_the_check_would_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The rule reader and the import reader together: a room module importing FastAPI."""
    source = tmp_path / "room.py"
    source.write_text("from fastapi import APIRouter\nfrom app import store as s\n", encoding="utf-8")
    names = imports_of(source)
    assert covered("fastapi", ("fastapi",)) and "fastapi" in names and "app.store" in names
    assert not covered("app.templates.model", ("app.templates.x",))
    assert covered("app.templates.model", ("app",)) and covered("app.templates.model", ("app.templates",))
