"""The export's formats: which renderer makes which file, and the file's name.

The JSON is the document itself (app/snapshot.py); CSV, Markdown and HTML are renderers of
it (app/export_csv.py, app/export_markdown.py, app/export_html.py) built on the one report
of app/report.py. Pure: no I/O, no FastAPI.
"""

from __future__ import annotations

import re
import unicodedata

from app.export_csv import render_csv
from app.export_html import render_html
from app.export_markdown import render_markdown
from app.snapshot import BoardExport


def file_name(export: BoardExport, extension: str) -> str:
    """The case number (where there is one, first: files are filed by it), the room title
    and the date, safe as a file name on every system."""
    case = _slug(export.room.case_number or "")
    title = _slug(export.room.title)[:60] or "samskapa"
    return "-".join(part for part in (case, title, f"{export.exported_at:%Y-%m-%d}") if part) + f".{extension}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()


def render_json(export: BoardExport) -> bytes:
    return export.model_dump_json(indent=2).encode()


RENDERERS = {
    "json": (render_json, "application/json"),
    "csv": (render_csv, "text/csv; charset=utf-8"),
    "md": (render_markdown, "text/markdown; charset=utf-8"),
    "html": (render_html, "text/html; charset=utf-8"),
}
