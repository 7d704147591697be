"""The frontend's scripts and style sheets go without their comments, and nothing else
changes: every line keeps its number, and code that looks like a comment stays code."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.comment_free import UnreadableSource, without_comments
from tests.servers import ROOT

FRONTEND = ROOT / "frontend"
JS = "text/javascript"
CSS = "text/css"


def frontend_files() -> list[Path]:
    return sorted(p for p in FRONTEND.rglob("*") if p.suffix in {".js", ".css"})


def assert_source_less_its_comments(served: bytes, source: bytes) -> None:
    """Line by line, `served` is `source` or what stood before a comment on that line (or
    nothing, inside a block comment); no line of it opens a comment."""
    served_lines, source_lines = served.decode().split("\n"), source.decode().split("\n")
    assert len(served_lines) == len(source_lines)
    in_block = False
    for number, (kept, written) in enumerate(zip(served_lines, source_lines, strict=True), start=1):
        if in_block:
            assert kept == "" or written.split("*/", 1)[1].strip().startswith(kept.strip()), number
        elif kept != written:
            assert written.startswith(kept.rstrip()), (number, written, kept)
            assert written[len(kept.rstrip()) :].lstrip().startswith(("//", "/*")), (number, written)
        opened = written.rfind("/*")
        in_block = (in_block or opened >= 0) and "*/" not in written[max(opened, 0) :]
        assert not kept.lstrip().startswith(("//", "/*")), (number, kept)


@pytest.mark.parametrize("path", frontend_files(), ids=lambda p: p.relative_to(FRONTEND).as_posix())
def test_every_script_and_style_sheet_of_ours_parses_and_loses_only_its_comments(path: Path) -> None:
    # A file that did not parse would be served with its comments (the fallback): this
    # keeps that from happening to one of ours unnoticed.
    source = path.read_bytes()
    served = without_comments(source, JS if path.suffix == ".js" else CSS)
    assert_source_less_its_comments(served, source)


def test_the_first_screens_files_are_a_fifth_smaller_without_comments() -> None:
    files = [FRONTEND / "js" / name for name in ("page.js", "connection.js", "dom.js", "i18n.js")]
    source = sum(len(p.read_bytes()) for p in files)
    served = sum(len(without_comments(p.read_bytes(), JS)) for p in files)
    assert served < 0.8 * source


def test_what_looks_like_a_comment_in_a_string_a_template_or_a_pattern_stays() -> None:
    source = (
        b"const url = 'http://example.org/*x*/';\n"
        b"const nested = `a ${`b // c`} /* d */`; // gone\n"
        b"const pattern = /\\/\\/+/g; /* gone */\n"
        b"const sum = 1/**/+2;\n"
    )
    assert without_comments(source, JS) == (
        b"const url = 'http://example.org/*x*/';\n"
        b"const nested = `a ${`b // c`} /* d */`;\n"
        b"const pattern = /\\/\\/+/g;\n"
        b"const sum = 1 +2;\n"
    )


def test_a_block_comment_leaves_its_line_breaks_so_lines_keep_their_numbers() -> None:
    source = b"/**\n * Why.\n */\nexport function f() {\n  return 1; // one\n}\n"
    assert without_comments(source, JS) == b"\n\n\nexport function f() {\n  return 1;\n}\n"


def test_a_style_sheets_comments_go_and_its_strings_stay() -> None:
    source = b'/* the page */\n.a::before { content: "/* not */"; } /* gone */\n'
    assert without_comments(source, CSS) == b'\n.a::before { content: "/* not */"; }\n'


def test_a_file_that_does_not_parse_is_refused_so_that_it_goes_as_written() -> None:
    with pytest.raises(UnreadableSource):
        without_comments(b"const a = ;\n// kept\n", JS)
