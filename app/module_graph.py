"""The static import graph of the frontend's ES modules, read from their source at start.

Why: a page that loads its entry module learns of each import only once the importing module
has arrived, one round trip per level (four levels for the participant page, 1.2 s of its
4.6 s on a 400 ms link; docs/performance.md). Listing every module the entry needs as
`<link rel="modulepreload">` in the page's head lets the browser fetch them all at once. The
list is derived here from the modules themselves, so it follows the code when imports change.

Only static, relative imports count (`import … from "./x.js"`, `import "./x.js"`, `export …
from "./x.js"`): they are what the browser fetches before running anything. A dynamic
`import("./x.js")` is fetched when it runs, by choice: the participant page imports what its
first screen does not show that way, so that it is not announced and the phone does not wait
for it (`lazy_modules` says which). A bare or absolute specifier is not a file of ours. A
statement must begin its line, so an import written in a comment or a string is not one
(`@param {import("./connection.js").X}` in JSDoc, for example).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

STATIC_IMPORT = re.compile(
    r"""^[ \t]*(?:import|export)\b     # a statement at the start of a line
        (?:[^;'"`]*?\bfrom)?           # bindings and `from`, never crossing a statement or a string
        \s*(['"])(\.{1,2}/[^'"\n]+)\1  # a relative specifier
    """,
    re.MULTILINE | re.VERBOSE,
)


DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*(['"])(\.{1,2}/[^'"\n]+)\1\s*\)""")


class ModuleGraphError(ValueError):
    """A module imports something that is not there: the page would fail in the browser."""


def static_imports(source: str) -> list[str]:
    """The relative specifiers a module statically imports, in source order, each once."""
    found: list[str] = []
    for match in STATIC_IMPORT.finditer(source):
        if match.group(2) not in found:
            found.append(match.group(2))
    return found


def module_closure(root: Path, entry: str) -> list[str]:
    """Every module `entry` needs, itself first, as paths relative to `root` with "/"
    (e.g. "js/dom.js"), in the order a depth-first walk of the imports meets them."""
    order: list[str] = []
    pending = [posixpath.normpath(entry)]
    while pending:
        module = pending.pop()
        if module in order:
            continue
        path = root / module
        if not path.is_file() or module.startswith("../"):
            raise ModuleGraphError(f"{module} is imported but is not a file under {root}")
        order.append(module)
        base = posixpath.dirname(module)
        imports = [posixpath.normpath(posixpath.join(base, spec)) for spec in static_imports(path.read_text("utf-8"))]
        pending.extend(reversed(imports))
    return order


def dynamic_imports(source: str) -> list[str]:
    """The relative specifiers a module imports with `import("./x.js")`, each once; not on a
    comment's line (JSDoc names types as `{import("./connection.js").LiveConnection}`)."""
    code = (line for line in source.splitlines() if not line.lstrip().startswith(("//", "*", "/*")))
    return list(dict.fromkeys(match.group(2) for line in code for match in DYNAMIC_IMPORT.finditer(line)))


def lazy_modules(root: Path, entries: list[str]) -> list[str]:
    """What the `entries` may import later, by `import()`, and that is not already in their
    static closures: the modules a page loads only when (or after) it needs them."""
    loaded = list(dict.fromkeys(module for entry in entries for module in module_closure(root, entry)))
    static = len(loaded)
    for module in loaded:  # grows: what a lazy module imports lazily is lazy too
        base = posixpath.dirname(module)
        for spec in dynamic_imports((root / module).read_text("utf-8")):
            for needed in module_closure(root, posixpath.normpath(posixpath.join(base, spec))):
                if needed not in loaded:
                    loaded.append(needed)
    return loaded[static:]
