"""The modulepreload list comes from the modules' own imports: what counts as an import,
what does not, and what happens when a page or a module names a file that is not there."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from app.assets import BRIEFLY_FRESH, CACHED_FOR_GOOD, REVALIDATE, AssetVersion, VersionedStaticFiles
from app.module_graph import ModuleGraphError, dynamic_imports, lazy_modules, module_closure, static_imports
from app.pages import PageError, render_head

MODULE = """\
// A module's imports, in every shape the browser fetches before running it.
import { a } from "./a.js";
import b, {
  c,
  d,
} from './b.js';
import "./side-effect.js";
export { e } from "../shared/e.js";
export * from "./a.js";

/** @param {import("./typedef.js").Thing} thing  (JSDoc: not an import) */
// import { nope } from "./commented.js";
const later = () => import("./dynamic.js");
import { outside } from "https://example.org/x.js";
import { bare } from "lit";
const text = "import x from './in-a-string.js'";
export function from() { return "./not-an-import.js"; }
"""


def test_static_relative_imports_are_found_and_nothing_else() -> None:
    assert static_imports(MODULE) == ["./a.js", "./b.js", "./side-effect.js", "../shared/e.js"]


# What a pattern over lines gets wrong and the parser does not: an import at the start of a
# line inside a template literal or a block comment, a binding named by a string, an import()
# in a string or after a comment's `//`, and one spread over lines.
LOOKALIKES = """\
import { x } from "./x.js";
const help = `
import { y } from "./in-a-template.js";
`;
/*
import { old } from "./in-a-block-comment.js";
*/
export { "a name" as named } from "./named.js";
const hint = 'load it with import("./in-a-string.js")';
go(); // and then import("./in-a-comment.js")
const board = () =>
  import(
    "./multi-line.js"
  );
"""


def test_an_import_is_what_the_parser_reads_as_one_not_what_looks_like_one() -> None:
    assert static_imports(LOOKALIKES) == ["./x.js", "./named.js"]
    assert dynamic_imports(LOOKALIKES) == ["./multi-line.js"]


def test_a_module_with_a_syntax_error_still_gives_the_imports_around_it() -> None:
    """A preload fewer costs a round trip; a server that will not start costs the workshop."""
    source = 'import { a } from "./a.js";\nconst = ;\nimport "./b.js";\nconst c = () => import("./c.js");\n'
    assert static_imports(source) == ["./a.js", "./b.js"]
    assert dynamic_imports(source) == ["./c.js"]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, "utf-8")


def test_the_closure_follows_every_level_once_even_around_a_cycle(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "js/page.js": 'import { x } from "./x.js";\nimport { y } from "./y.js";\n',
            "js/x.js": 'import { z } from "./deep/z.js";\n',
            "js/y.js": 'import { x } from "./x.js";\nimport { page } from "./page.js";\n',
            "js/deep/z.js": 'import { y } from "../y.js";\n',
            "js/unused.js": "export const nobody = 1;\n",
        },
    )
    assert module_closure(tmp_path, "js/page.js") == ["js/page.js", "js/x.js", "js/deep/z.js", "js/y.js"]


def test_an_import_of_a_missing_file_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"js/page.js": 'import { gone } from "./gone.js";\n'})
    with pytest.raises(ModuleGraphError, match=r"js/gone\.js is imported but is not a file"):
        module_closure(tmp_path, "js/page.js")


def test_a_module_outside_the_frontend_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"site/js/page.js": 'import { secret } from "../../secret.js";\n', "secret.js": ""})
    with pytest.raises(ModuleGraphError, match=r"secret\.js"):
        module_closure(tmp_path / "site", "js/page.js")


PAGE = """\
<head>
  <link rel="stylesheet" href="/static/css/app.css">
  <link rel="preload" href="/static/data/words.json" as="fetch" crossorigin>
  <script type="module" src="/static/js/page.js"></script>
</head>
"""


def test_a_page_gets_a_preload_per_module_and_versioned_urls(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "page.html": PAGE,
            "css/app.css": "",
            "data/words.json": "{}",
            "js/page.js": 'import "./a.js";\n',
            "js/a.js": 'import "./b.js";\n',
            "js/b.js": "",
        },
    )
    assets = AssetVersion.of(tmp_path)
    v = assets.version
    assert render_head("page.html", PAGE, assets) == (
        "<head>\n"
        f'  <link rel="stylesheet" href="/static/{v}/css/app.css">\n'
        f'  <link rel="preload" href="/static/{v}/data/words.json" as="fetch" crossorigin>\n'
        f'  <link rel="modulepreload" href="/static/{v}/js/a.js">\n'
        f'  <link rel="modulepreload" href="/static/{v}/js/b.js">\n'
        f'  <script type="module" src="/static/{v}/js/page.js"></script>\n'
        "</head>\n"
    )


def test_a_page_that_names_a_missing_file_stops_the_server_at_start(tmp_path: Path) -> None:
    write(tmp_path, {"page.html": PAGE, "css/app.css": "", "js/page.js": ""})
    with pytest.raises(PageError, match=r"page\.html loads /static/data/words\.json"):
        render_head("page.html", PAGE, AssetVersion.of(tmp_path))


def test_the_version_follows_the_content_and_only_the_content(tmp_path: Path) -> None:
    write(tmp_path, {"js/a.js": "export const a = 1;\n"})
    before = AssetVersion.of(tmp_path).version
    os.utime(tmp_path / "js/a.js", (0, 0))  # a fresh checkout: other times, same bytes
    assert AssetVersion.of(tmp_path).version == before
    write(tmp_path, {"js/a.js": "export const a = 2;\n"})
    assert AssetVersion.of(tmp_path).version != before


def test_a_file_edited_after_start_is_never_cached_for_good(tmp_path: Path) -> None:
    write(tmp_path, {"js/a.js": "export const a = 1;\n"})
    static = VersionedStaticFiles(AssetVersion.of(tmp_path))
    version = static.assets.version
    assert static.cache_control(version, "js/a.js", (tmp_path / "js/a.js").stat()) == CACHED_FOR_GOOD
    assert static.cache_control(None, "js/a.js", (tmp_path / "js/a.js").stat()) == BRIEFLY_FRESH
    write(tmp_path, {"js/a.js": "export const a = 2; // edited while the server runs\n"})
    assert static.cache_control(version, "js/a.js", (tmp_path / "js/a.js").stat()) == REVALIDATE


def test_dynamic_imports_are_found_apart_from_the_static_ones() -> None:
    assert dynamic_imports(MODULE) == ["./dynamic.js"]
    assert dynamic_imports('const a = await import( "./x.js" );\nimport("../y.js").then(go);\nimport(name);\n') == [
        "./x.js",
        "../y.js",
    ]


def test_a_module_imported_only_dynamically_is_lazy_with_what_it_needs_and_never_announced(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "page.html": '<head>\n  <script type="module" src="/static/js/page.js"></script>\n</head>\n',
            "js/page.js": 'import { shared } from "./shared.js";\nconst board = () => import("./board.js");\n',
            "js/shared.js": "export const shared = 1;\n",
            "js/board.js": 'import { shared } from "./shared.js";\nimport { card } from "./card.js";\n'
            'const more = () => import("./more.js");\n',
            "js/card.js": "export const card = 1;\n",
            "js/more.js": "export const more = 1;\n",
        },
    )
    assert lazy_modules(tmp_path, ["js/page.js"]) == ["js/board.js", "js/card.js", "js/more.js"]
    assets = AssetVersion.of(tmp_path)
    head = render_head("page.html", (tmp_path / "page.html").read_text("utf-8"), assets)
    assert head.count("modulepreload") == 1 and f"/static/{assets.version}/js/shared.js" in head


def test_each_module_script_gets_the_preloads_no_earlier_one_announced(tmp_path: Path) -> None:
    page = (
        "<head>\n"
        '  <script type="module" src="/static/js/early.js"></script>\n'
        '  <link rel="preload" href="/static/data/words.json" as="fetch" crossorigin>\n'
        '  <script type="module" src="/static/js/main.js"></script>\n'
        "</head>\n"
    )
    write(
        tmp_path,
        {
            "data/words.json": "{}",
            "js/early.js": 'import "./socket.js";\n',
            "js/socket.js": 'import "./state.js";\n',
            "js/state.js": "",
            "js/main.js": 'import "./early.js";\nimport "./view.js";\nimport "./state.js";\n',
            "js/view.js": "",
        },
    )
    assets = AssetVersion.of(tmp_path)
    v = assets.version
    assert render_head("page.html", page, assets) == (
        "<head>\n"
        f'  <link rel="modulepreload" href="/static/{v}/js/socket.js">\n'
        f'  <link rel="modulepreload" href="/static/{v}/js/state.js">\n'
        f'  <script type="module" src="/static/{v}/js/early.js"></script>\n'
        f'  <link rel="preload" href="/static/{v}/data/words.json" as="fetch" crossorigin>\n'
        f'  <link rel="modulepreload" href="/static/{v}/js/view.js">\n'
        f'  <script type="module" src="/static/{v}/js/main.js"></script>\n'
        "</head>\n"
    )


def test_the_participant_page_announces_neither_its_board_nor_its_figures() -> None:
    """They are for later phases; the phone should not wait for them before it can grade."""
    frontend = Path(__file__).resolve().parent.parent / "frontend"
    assets = AssetVersion.of(frontend)
    head = render_head("participant.html", (frontend / "participant.html").read_text("utf-8"), assets)
    announced = set(re.findall(r'rel="modulepreload" href="/static/[0-9a-f]+/(js/[^"]+)"', head))
    lazy = lazy_modules(frontend, ["js/early-connection.js", "js/participant.js"])
    assert {"js/board.js", "js/spectrum.js"} <= set(lazy)
    assert not announced & set(lazy)
    assert {"js/grading.js", "js/connection.js"} <= announced
