"""Export a board (JSON, CSV, Markdown, HTML) and import a JSON export as a new room."""

from __future__ import annotations

import asyncio
import json
import secrets
import struct
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import Field, ValidationError

from app.api import (
    FACILITATOR_ONLY,
    OPENS_A_ROOM,
    RoomCreated,
    RoomCreationLimit,
    ServicesDep,
    open_room,
    require_facilitator,
)
from app.clock import now_utc
from app.errors import INVALID_REQUEST, ApiError, FieldProblem, Refusal, errors, field_problems
from app.export import RENDERERS, file_name
from app.export_answers import NotProven, Respondent, ShownFigures, answers_from_figures, open_answers
from app.export_versions import OLDEST_READ, SCHEMA_VERSION, UnsupportedVersion, upgrade
from app.imports import Inconsistent, check, respondents_of
from app.room import LiveRoom
from app.rows import imported_room_row, imported_rows
from app.services import Services
from app.snapshot import BoardExport
from app.tokens import hash_token

router = APIRouter()
# Every version this server imports, as written when it was current: kept beside this
# module, and held to the current model by tests/test_export.py.
EXPORT_SCHEMAS: dict[int, dict[str, Any]] = {
    version: json.loads((Path(__file__).parent / "export_schemas" / f"v{version}.json").read_text())
    for version in range(OLDEST_READ, SCHEMA_VERSION + 1)
}

MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a 5,000-note board exports to about 3 MB
IMPORT_PATH = "/api/rooms/import"
ExportFormat = Literal["json", "csv", "md", "html"]


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {}, "text/markdown": {}, "text/html": {}}},
    **errors(*FACILITATOR_ONLY, INVALID_REQUEST),
}
IMPORT_REFUSALS = (
    Refusal(422, "invalid_json", "the body is not JSON, or is nested too deeply to be an export"),
    Refusal(422, "unsupported_schema_version", "`schema_version` is missing or not one this server reads"),
    Refusal(422, "invalid_export", "a field is missing or wrong, or the fields do not agree: `fields` names it"),
    Refusal(422, "limit_reached", "more participants, notes or groups than a live room may have"),
    Refusal(403, "forbidden", "the answers are sealed by this deployment and the token is not the exported room's"),
    Refusal(413, "too_large", "the body is over 10 MB"),
    *OPENS_A_ROOM,
)


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
    render, media_type = RENDERERS[format]
    if isinstance(room, LiveRoom):
        export = room.export()
        body = await asyncio.to_thread(render, export)
        name = file_name(export, format)
    else:  # rendered by the room's owner, which reads its own version of the export
        body, name = await room.request_export(format)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/api/schema/export.json", response_model=None, responses=errors())
async def export_schema() -> dict[str, Any]:
    """The JSON Schema of a JSON export of the current version; see docs/export.md."""
    return EXPORT_SCHEMAS[SCHEMA_VERSION]


@router.get(
    "/api/schema/export-v{version}.json",
    response_model=None,
    responses=errors(
        Refusal(404, "not_found", "a version this server does not read"),
        Refusal(422, "invalid_request", "a version that is not a whole number"),
    ),
)
async def export_schema_of(version: int) -> dict[str, Any]:
    """The JSON Schema of one version of the JSON export, as it was written (every version
    this server imports)."""
    schema = EXPORT_SCHEMAS.get(version)
    if schema is None:
        raise ApiError(404, "not_found", f"No export version {version}; this server reads {sorted(EXPORT_SCHEMAS)}.")
    return schema


class RoomImported(RoomCreated):
    restored: Literal["answers", "figures"] = Field(
        description="`answers`: every answer came back (with groups, when the import proved it ran the room); "
        "`figures`: the whole room's figures came back as anonymous answers, without groups."
    )
    groups_not_restored: int = Field(description="Respondents whose group was not restored.")
    answers_not_restored: int = Field(
        description="Answers of figures the k rule held back, which a figures-only import cannot rebuild."
    )


@router.post(IMPORT_PATH, status_code=201, response_model=RoomImported, responses=errors(*IMPORT_REFUSALS))
async def import_room(
    request: Request,
    services: ServicesDep,
    _limit: RoomCreationLimit,
    authorization: Annotated[str | None, Header()] = None,
) -> RoomImported:
    """A new room (new id, code and tokens) with the export's template, settings, notes and
    votes. The answers, with their groups, come back only for whoever proves they ran the
    exported room (Authorization: Bearer <that room's facilitator token>) on the deployment
    that exported it; anyone else's import gets the whole room's figures and the notes.
    Participants get new ids: nobody can resume an identity from a file."""
    export = _parse_export(await request.body())  # app/body_limit.py has held it to MAX_IMPORT_BYTES
    token = authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ") else None
    restored, proven = _restored_answers(services, export, token)
    try:
        check(export, restored, services.settings)
    except Inconsistent as problem:
        message = f"The export is not consistent: {problem}" if problem.code == "invalid_export" else problem.message
        problems = [FieldProblem(field=problem.field, message=problem.message)]
        raise ApiError(422, problem.code, message, problems) from problem
    respondents = restored if restored is not None else answers_from_figures(_shown(export))
    now = now_utc()
    expires_at = now + timedelta(days=services.settings.room_ttl_days)
    row = imported_room_row(export, secrets.token_urlsafe(18), now, expires_at)
    rows = imported_rows(export, row.id, now, respondents)
    created = await open_room(services, row, lambda room: services.store.import_room(room, rows))
    given = sum(a.n + a.unknown if a.withheld is None else a.withheld for a in export.aggregates)
    kept = sum(len(person.answers) for person in respondents)
    return RoomImported(
        **created.model_dump(),
        restored="answers" if restored is not None else "figures",
        groups_not_restored=0 if proven else export.respondents,
        answers_not_restored=max(0, given - kept),
    )


def _restored_answers(
    services: Services, export: BoardExport, token: str | None
) -> tuple[list[Respondent] | None, bool]:
    """The answers the import restores, and whether their groups came with the proof."""
    if export.open_answers is not None:
        return respondents_of(export), False
    if export.answers_sealed is None:
        return [], False  # nobody answered
    statement_ids = export.template.statement_ids()
    group_ids = [group.id for group in export.room.groups]
    try:
        opened = open_answers(
            services.sealer, export.answers_sealed, hash_token(token) if token else None, statement_ids, group_ids
        )
    except NotProven as refused:
        raise ApiError(403, "forbidden", str(refused)) from refused
    except (ValueError, struct.error) as broken:
        problems = [FieldProblem(field="answers_sealed", message=str(broken))]
        raise ApiError(
            422, "invalid_export", f"The export is not valid: answers_sealed: {broken}", problems
        ) from broken
    return opened, opened is not None


def _shown(export: BoardExport) -> list[ShownFigures]:
    return [
        ShownFigures(a.round, a.kind, a.statement_id, a.histogram, a.unknown)
        for a in export.aggregates
        if a.withheld is None
    ]


def _parse_export(body: bytes) -> BoardExport:
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(422, "invalid_json", f"The file is not JSON: {error}") from error
    except RecursionError as error:  # a nesting bomb: arrays or objects thousands deep
        raise ApiError(422, "invalid_json", "The file is not JSON: it is nested too deeply.") from error
    if not isinstance(raw, dict):
        raise ApiError(422, "invalid_export", "An export is a JSON object.")
    try:
        current = upgrade(raw)
    except UnsupportedVersion as error:
        raise ApiError(422, "unsupported_schema_version", str(error)) from error
    try:
        export = BoardExport.model_validate(current)
    except ValidationError as error:
        problems = field_problems(error)
        shown = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
        raise ApiError(422, "invalid_export", f"The export is not valid: {shown}", problems) from error
    return export
