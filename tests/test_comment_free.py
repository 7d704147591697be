"""The frontend's scripts and style sheets go without their comments, and nothing else
changes: every line keeps its number, code that looks like a comment stays code, a file
that does not parse goes as written, and a file edited while the server runs is read again."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.comment_free import CommentFreeBodies, UnreadableSource, served_text, without_comments
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
    media_type = JS if path.suffix == ".js" else CSS
    served = without_comments(source, media_type)
    assert_source_less_its_comments(served, source)
    # However many comments the file has: none is left, and what is left still parses.
    assert without_comments(served, media_type) == served


def test_a_file_that_does_not_parse_is_served_as_written() -> None:
    broken = b"const a = ;\n// kept\n"
    assert served_text(broken, JS) == broken
    assert served_text(b"const a = 1; // gone\n", JS) == b"const a = 1;\n"


async def test_a_body_is_made_once_and_again_when_its_file_is_edited(tmp_path: Path) -> None:
    script = tmp_path / "a.js"
    bodies = CommentFreeBodies()

    async def served() -> bytes:
        stat = script.stat()
        return await bodies.body(script, JS, stat.st_size, stat.st_mtime_ns)

    script.write_bytes(b"export const a = 1; // one\n")
    assert await served() == b"export const a = 1;\n"
    kept = await served()
    assert kept is await served(), "kept, not parsed again"
    script.write_bytes(b"export const a = 22; // edited while the server runs\n")
    assert await served() == b"export const a = 22;\n"


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
