"""The style sheets and the Swedish words a page carries in itself instead of linking them.

Why: on slow 3G every file a page links costs a request with its round trip, and over
HTTP/1.1 a browser has six connections to a host. The participant page's twelve modules
take two rounds of 400 ms; its style sheet and its locale made a third, which the phone
waited for before it could grade (docs/performance.md). In the page itself they come with
its first bytes. A returning phone loses nothing: the page is revalidated and answered 304
while it is unchanged. What it costs is that someone who opens two pages receives the
style sheet twice, a few KB on the laptop that runs the console.

- A style sheet goes at the end of the head, after the scripts and their modulepreloads,
  so that the browser asks for the modules before the style sheet's bytes have arrived. It
  goes without its comments (app/comment_free.py), and the page's Content-Security-Policy
  allows exactly these styles by their hashes (CSP3 hash sources), never 'unsafe-inline'.
  A style sheet of ours links no other file (no `url()`, no `@import`), so nothing in it
  depends on where it is read from.
- A locale goes at the end of the body as a JSON data block (`<script
  type="application/json">`, which a browser never runs, so the policy need not allow it),
  where frontend/js/i18n.js reads it instead of fetching it. Swedish is every page's
  fallback, so every page needs it, whatever the reader's language.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from app.comment_free import served_text

STYLESHEET = re.compile(r'[ \t]*<link rel="stylesheet" href="/static/([^"]+\.css)">\n')
LOCALE_PRELOAD = re.compile(
    r'[ \t]*<link rel="preload" href="/static/locales/([a-z]{2})\.json" as="fetch" crossorigin>\n'
)
INDENT = "  "


class InliningError(ValueError):
    """A file a page would carry cannot be carried: found at start, not by a participant."""


@dataclass(frozen=True)
class InlinedPage:
    html: str
    style_hashes: tuple[str, ...]  # the CSP hash source of each <style>, in order


def inline_files(name: str, html: str, directory: Path) -> InlinedPage:
    """The page with its style sheets and locales in it instead of linked."""
    styles: list[str] = []
    locales: list[str] = []

    def take_style(link: re.Match[str]) -> str:
        css = served_text(_read(name, directory, link.group(1)), "text/css").decode("utf-8")
        if "</style" in css.lower():
            raise InliningError(f"{name}: {link.group(1)} would close its own <style> element")
        styles.append(css)
        return ""

    def take_locale(link: re.Match[str]) -> str:
        words = json.loads(_read(name, directory, f"locales/{link.group(1)}.json"))
        # Compact, and no "<" at all, so that nothing in it can end the element.
        text = json.dumps(words, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
        locales.append(f'{INDENT}<script type="application/json" id="locale-{link.group(1)}">{text}</script>\n')
        return ""

    html = LOCALE_PRELOAD.sub(take_locale, STYLESHEET.sub(take_style, html))
    if (styles and "</head>" not in html) or (locales and "</body>" not in html):
        raise InliningError(f"{name} has no </head> or </body> to carry its files before")
    html = html.replace("</head>", "".join(f"{INDENT}<style>{css}</style>\n" for css in styles) + "</head>", 1)
    html = html.replace("</body>", "".join(locales) + "</body>", 1)
    return InlinedPage(html, tuple(_hash_source(css) for css in styles))


def _read(page: str, directory: Path, relative: str) -> bytes:
    path = directory / relative
    if not path.is_file():
        raise InliningError(f"{page} links /static/{relative}, which is not a file under {directory}")
    return path.read_bytes()


def _hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"
