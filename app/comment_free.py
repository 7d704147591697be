"""The frontend's scripts and style sheets as a browser gets them: without their comments.

Why: the comments are written for the people who work on the code, and they are a third of
the participant page's JavaScript. A phone on slow 3G pays for every byte before it can
grade; without them the first screen's modules and style sheet are 7 KB smaller as brotli,
a seventh of a second on that link (docs/performance.md). Nothing else is changed: no
renaming, no joining of files, no whitespace but the blanks a comment leaves at the end of
its line, so what runs is the source as written and a developer can read it in DevTools.

Comments are found by a parser made for the languages (tree-sitter's JavaScript and CSS
grammars), never by a pattern: a `//` in a string, a regular expression or a template
literal is not a comment, and a pattern cannot tell (a minifier that used one cut a line
short at a nested template literal). Each comment gives way to the line breaks it held, so
every line keeps its number and a stack trace points at the line in the source; one that
held none becomes a space where it stood between two tokens, which keeps them apart. A file
the parser reads with an error is served as written: better a few bytes too many than a
script that no longer runs (tests/test_comment_free.py holds every file of ours to
parsing cleanly).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import anyio.to_thread
import tree_sitter_css
import tree_sitter_javascript
from tree_sitter import Language, Node, Parser, Tree

GRAMMARS = {"text/javascript": tree_sitter_javascript.language, "text/css": tree_sitter_css.language}
MEDIA_TYPES = frozenset(GRAMMARS)
TRAILING_BLANKS = re.compile(rb"[ \t]+(?=\n)")


class CommentFreeBodies:
    """Each script's and style sheet's served body, made once in a worker thread (the event
    loop that serves the rooms never parses) and kept. Kept by the file's size and mtime as
    well as its path, so that a file edited while the server runs (development) is read
    again rather than served as it was."""

    def __init__(self) -> None:
        self._bodies: dict[tuple[str, int, int], bytes] = {}

    async def body(self, path: Path, media_type: str, size: int, mtime_ns: int) -> bytes:
        key = (str(path), size, mtime_ns)
        if key not in self._bodies:
            self._bodies[key] = await anyio.to_thread.run_sync(_served, path, media_type)
        return self._bodies[key]


def _served(path: Path, media_type: str) -> bytes:
    return served_text(path.read_bytes(), media_type)


def served_text(source: bytes, media_type: str) -> bytes:
    """What a browser gets of a script or a style sheet: without its comments, or as
    written when it does not parse cleanly."""
    try:
        return without_comments(source, media_type)
    except UnreadableSource:
        return source


class UnreadableSource(ValueError):
    """The parser found an error: the file is served as written."""


@cache
def _parser(media_type: str) -> Parser:
    return Parser(Language(GRAMMARS[media_type]()))


def syntax_tree(source: bytes, media_type: str) -> Tree:
    """`source` as its language's parser reads it (app/module_graph.py reads a script's
    imports from it too); `has_error` on its root says whether it read it whole."""
    return _parser(media_type).parse(source)


def without_comments(source: bytes, media_type: str) -> bytes:
    """`source` (a script or a style sheet, by its media type) less its comments; raises
    UnreadableSource when the parser cannot read it whole."""
    tree = syntax_tree(source, media_type)
    if tree.root_node.has_error:
        raise UnreadableSource(f"{media_type} does not parse cleanly")
    kept: list[bytes] = []
    position = 0
    for comment in _comments(tree.root_node):
        kept.append(source[position : comment.start_byte])
        breaks = source.count(b"\n", comment.start_byte, comment.end_byte)
        kept.append(b"\n" * breaks if breaks else b" " if _between_tokens(source, comment) else b"")
        position = comment.end_byte
    kept.append(source[position:])
    return TRAILING_BLANKS.sub(b"", b"".join(kept))


def _comments(root: Node) -> Iterator[Node]:
    """The comment nodes in source order (a comment has no children to look into)."""
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and node.type == "comment":
            yield node
        elif cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def _between_tokens(source: bytes, comment: Node) -> bool:
    """Whether the comment stands between two non-blank characters on its line (`a/**/b`)."""
    before = source[comment.start_byte - 1 : comment.start_byte] if comment.start_byte else b""
    after = source[comment.end_byte : comment.end_byte + 1]
    return bool(before.strip()) and bool(after.strip())
