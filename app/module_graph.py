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
for it (`lazy_modules` says which). A bare or absolute specifier is not a file of ours, nor
is a specifier built at run time (`import(name)`).

Imports are read from the syntax tree of tree-sitter's JavaScript parser, the one
app/comment_free.py strips the comments with, never by a pattern: an import written in a
comment, a string or a template literal is not one, wherever it stands
(`@param {import("./connection.js").X}` in JSDoc, for example), and one spread over lines
still counts. A module the parser reads with an error still gives the imports it found around the error:
one missed is only a round trip later, and tests/test_comment_free.py holds every module of
ours to parsing cleanly.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from pathlib import Path

from tree_sitter import Node

from app.comment_free import syntax_tree

JAVASCRIPT = "text/javascript"
RELATIVE = ("./", "../")


class ModuleGraphError(ValueError):
    """A module imports something that is not there: the page would fail in the browser."""


def static_imports(source: str) -> list[str]:
    """The relative specifiers a module statically imports, in source order, each once."""
    # Import and export statements stand only at a module's top level.
    statements = syntax_tree(source.encode(), JAVASCRIPT).root_node.named_children
    found = (
        statement.child_by_field_name("source")
        for statement in statements
        if statement.type in {"import_statement", "export_statement"}
    )
    return _relative(specifier for specifier in found if specifier is not None)


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
    """The relative specifiers a module imports with `import("./x.js")`, in source order,
    each once; a comment holds none (JSDoc names types as
    `{import("./connection.js").LiveConnection}`)."""
    return _relative(_dynamic_specifiers(syntax_tree(source.encode(), JAVASCRIPT).root_node))


def _dynamic_specifiers(root: Node) -> Iterator[Node]:
    """The string literal each `import(…)` call is given first, in source order."""
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and node.type == "call_expression":
            function, arguments = node.child_by_field_name("function"), node.child_by_field_name("arguments")
            if function is not None and function.type == "import" and arguments is not None:
                first = arguments.named_children[:1]
                if first and first[0].type == "string":
                    yield first[0]
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _relative(specifiers: Iterable[Node]) -> list[str]:
    """The string literals' values that name a file of ours ("./x.js", "../x.js"), each once."""
    values = ((specifier.text or b"")[1:-1].decode() for specifier in specifiers)
    return list(dict.fromkeys(value for value in values if value.startswith(RELATIVE)))


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
