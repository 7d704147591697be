"""A page carries its style sheets and its Swedish words in itself: the style sheets
without comments, allowed by their hashes and by nothing broader, the words exactly the
locale file's, in a block that nothing in them can end."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from app.assets import AssetVersion
from app.inlined_files import InliningError, inline_files
from app.pages import PAGES, Page, PageError
from tests.servers import ROOT
from tests.test_comment_free import assert_source_less_its_comments

FRONTEND = ROOT / "frontend"
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
WORDS = re.compile(r'<script type="application/json" id="locale-(\w+)">(.*?)</script>', re.DOTALL)


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_carries_its_style_sheets_allowed_by_their_hashes_alone(name: str) -> None:
    source = (FRONTEND / name).read_text("utf-8")
    linked = re.findall(r'<link rel="stylesheet" href="/static/([^"]+)">', source)
    page = Page.render(name, AssetVersion.of(FRONTEND))
    html = page.body.decode()
    styles = STYLE.findall(html)
    assert linked and len(styles) == len(linked)
    assert 'rel="stylesheet"' not in html
    for css, file in zip(styles, linked, strict=True):
        assert_source_less_its_comments(css.encode(), (FRONTEND / file).read_bytes())
    style_src = next(part for part in page.policy.split("; ") if part.startswith("style-src"))
    assert style_src.split() == ["style-src", "'self'", *[sha256_source(css) for css in styles]]
    assert "unsafe" not in page.policy and "script-src 'self';" in page.policy
    # After every module the page announces, so that they are asked for first.
    assert html.index("<style>") > html.rindex('type="module"')


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_carries_the_swedish_words_at_the_end_of_its_body(name: str) -> None:
    html = Page.render(name, AssetVersion.of(FRONTEND)).body.decode()
    (language, text), *others = WORDS.findall(html)
    assert language == "sv" and not others
    assert json.loads(text) == json.loads((FRONTEND / "locales/sv.json").read_text("utf-8"))
    assert "<" not in text
    assert html.index("application/json") > html.index("<body")
    assert "locales/sv.json" not in html  # neither preloaded nor linked


def test_words_that_hold_a_closing_tag_cannot_end_their_block(tmp_path: Path) -> None:
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales/sv.json").write_text(json.dumps({"x": "</script><b>ha</b>"}))
    preload = '<link rel="preload" href="/static/locales/sv.json" as="fetch" crossorigin>'
    page = f"<head>\n  {preload}\n</head>\n<body>\n</body>\n"
    html = inline_files("p.html", page, tmp_path).html
    block = WORDS.search(html)
    assert block is not None and json.loads(block.group(2)) == {"x": "</script><b>ha</b>"}
    assert html.count("</script>") == 1


def test_a_style_sheet_that_would_close_its_element_or_is_missing_stops_the_server(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css/a.css").write_text('a::after { content: "</style>"; }\n')
    page = '<head>\n  <link rel="stylesheet" href="/static/css/a.css">\n</head>\n<body>\n</body>\n'
    with pytest.raises(InliningError, match="close its own"):
        inline_files("p.html", page, tmp_path)
    (tmp_path / "page.html").write_text(page.replace("a.css", "gone.css"))
    with pytest.raises(PageError, match=r"links /static/css/gone\.css"):
        Page.render("page.html", AssetVersion.of(tmp_path))
