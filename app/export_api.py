"""Export a board (JSON, CSV, Markdown, HTML) and import a JSON export as a new room."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import Field, ValidationError

from app.api import ERRORS, RoomCreated, RoomCreationLimit, ServicesDep, open_room, require_facilitator
from app.clock import now_utc
from app.errors import ApiError, FieldProblem, field_problems
from app.export import RENDERERS, file_name
from app.imports import Inconsistent, check
from app.room import LiveRoom
from app.rows import imported_room_row, imported_rows
from app.snapshot import GROUP_SEAL, SCHEMA_VERSION, BoardExport

router = APIRouter()

MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a 5,000-note board exports to about 3 MB
IMPORT_PATH = "/api/rooms/import"
ExportFormat = Literal["json", "csv", "md", "html"]


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {}, "text/markdown": {}, "text/html": {}}},
    **ERRORS,
}


@router.get("/api/rooms/{room_id}/export", responses=EXPORT_RESPONSES, response_class=Response)
async def export_room(
    room_id: str,
    services: ServicesDep,
    format: ExportFormat = "json",
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """The board as a file. Facilitator only (Authorization: Bearer <facilitator token>)."""
    await require_facilitator(services, room_id, authorization)
    room = await services.rooms.get(room_id)
    if room is None:
        raise ApiError(404, "room_not_found", "No such room.")
    # Taken in one synchronous step by the room's owner: one seq, whatever people do meanwhile.
    export = room.export() if isinstance(room, LiveRoom) else await room.request_export()
    render, media_type = RENDERERS[format]
    body = await asyncio.to_thread(render, export)
    name = file_name(export, format)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/api/schema/export.json", response_model=None)
async def export_schema() -> dict[str, Any]:
    """The JSON Schema of a JSON export (schema_version 2); see docs/export.md."""
    return BoardExport.model_json_schema()


class RoomImported(RoomCreated):
    groups_not_restored: int = Field(
        description="Respondents whose group could not be restored: the file was sealed by another server."
    )


@router.post(IMPORT_PATH, status_code=201, response_model=RoomImported, responses=ERRORS | {413: ERRORS[422]})
async def import_room(request: Request, services: ServicesDep, _limit: RoomCreationLimit) -> RoomImported:
    """A new room (new id, code and tokens) with the export's template, settings, scores,
    notes and votes. Participants get new ids: nobody can resume an identity from a file."""
    export = _parse_export(await request.body())  # app/body_limit.py has held it to MAX_IMPORT_BYTES
    # Each seal opened once (AES-GCM), then read by the check, the rows and the count.
    opened = {r.group_seal: services.sealer.open(r.group_seal, GROUP_SEAL) for r in export.respondents}
    open_group = opened.get

    try:
        check(export, open_group, services.settings)
    except Inconsistent as problem:
        message = f"The export is not consistent: {problem}" if problem.code == "invalid_export" else problem.message
        problems = [FieldProblem(field=problem.field, message=problem.message)]
        raise ApiError(422, problem.code, message, problems) from problem
    now = now_utc()
    expires_at = now + timedelta(days=services.settings.room_ttl_days)
    row = imported_room_row(export, secrets.token_urlsafe(18), now, expires_at)
    rows = imported_rows(export, row.id, now, open_group)
    created = await open_room(services, row, lambda room: services.store.import_room(room, rows))
    unopened = sum(1 for respondent in export.respondents if open_group(respondent.group_seal) is None)
    return RoomImported(**created.model_dump(), groups_not_restored=unopened)


def _parse_export(body: bytes) -> BoardExport:
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(422, "invalid_json", f"The file is not JSON: {error}") from error
    except RecursionError as error:  # a nesting bomb: arrays or objects thousands deep
        raise ApiError(422, "invalid_json", "The file is not JSON: it is nested too deeply.") from error
    if not isinstance(raw, dict):
        raise ApiError(422, "invalid_export", "An export is a JSON object.")
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ApiError(
            422,
            "unsupported_schema_version",
            f"schema_version {version!r} is not supported; this server reads {SCHEMA_VERSION}.",
        )
    try:
        export = BoardExport.model_validate(raw)
    except ValidationError as error:
        problems = field_problems(error)
        shown = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
        raise ApiError(422, "invalid_export", f"The export is not valid: {shown}", problems) from error
    return export
