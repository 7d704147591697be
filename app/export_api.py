"""Export a board (JSON, CSV, Markdown, HTML) and import a JSON export as a new room."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import ValidationError

from app import models as m
from app.api import ERRORS, RoomCreated, RoomCreationLimit, ServicesDep, open_room, require_facilitator
from app.board import to_stored
from app.errors import ApiError, field_problems
from app.export import RENDERERS, file_name
from app.import_checks import check_import
from app.room import LiveRoom, now_utc
from app.snapshot import SCHEMA_VERSION, BoardExport
from app.store import ImportedRows, hash_token

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
    """The JSON Schema of a JSON export (schema_version 1); see docs/export.md."""
    return BoardExport.model_json_schema()


@router.post(IMPORT_PATH, status_code=201, response_model=RoomCreated, responses=ERRORS | {413: ERRORS[422]})
async def import_room(request: Request, services: ServicesDep, _limit: RoomCreationLimit) -> RoomCreated:
    """A new room (new id, code and tokens) with the export's template, settings, scores,
    notes and votes. Participants get new ids: nobody can resume an identity from a file."""
    export = _parse_export(await _read_body(request))
    check_import(export, services.settings)
    now = now_utc()
    row = m.Room(
        id=secrets.token_urlsafe(18),
        join_code="",
        title=export.room.title,
        language=export.room.language,
        template_json=export.template.model_dump_json(),
        phase=export.room.phase,
        results_visible=export.room.results_visible,
        voting_locked=export.room.voting_locked,
        timer_ends_at=export.room.timer_ends_at,
        groups_json=json.dumps([g.model_dump() for g in export.room.groups]),
        group_min_size=export.room.group_min_size,
        desired_enabled=export.room.desired_enabled,
        round=export.room.round,
        seq=export.room.seq,
        facilitator_token_hash="",
        created_at=now,
        expires_at=now + timedelta(days=services.settings.room_ttl_days),
    )
    rows = _imported_rows(export, row.id, now)
    return await open_room(services, row, lambda room: services.store.import_room(room, rows))


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError(413, "too_large", f"An import may be at most {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")


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
    _check_references(export)
    return export


def _check_references(export: BoardExport) -> None:
    """Every score, note and vote must point at something the export itself contains."""
    people = {p.id for p in export.participants} | {"facilitator"}
    statements = set(export.template.statement_ids())
    areas = set(export.template.area_ids())
    for index, score in enumerate(export.scores):
        if score.participant_id not in people or score.statement_id not in statements:
            raise ApiError(422, "invalid_export", f"scores.{index} refers to an unknown participant or statement.")
    for index, note in enumerate(export.notes):
        linked_ok = note.statement_id is None or note.statement_id in statements
        if (
            note.area_id not in areas
            or note.author_id not in people
            or not set(note.voter_ids) <= people
            or not linked_ok
        ):
            raise ApiError(422, "invalid_export", f"notes.{index} refers to an unknown area or participant.")


def _imported_rows(export: BoardExport, room_id: str, now: datetime) -> ImportedRows:
    """The export's rows under fresh ids, as plain dicts for one bulk insert per table."""
    new_id = {p.id: "p_" + secrets.token_urlsafe(12) for p in export.participants}
    new_id["facilitator"] = "facilitator"
    participants: list[dict[str, object]] = [
        {
            "id": new_id[p.id],
            "room_id": room_id,
            # Nobody holds this token: identities do not carry over from a file.
            "token_hash": hash_token(secrets.token_urlsafe(32)),
            "name": p.name,
            "group": p.group,
            "created_at": now,
        }
        for p in export.participants
    ]
    notes: list[dict[str, object]] = []
    votes: list[dict[str, object]] = []
    for note in export.notes:
        note_id = "n_" + secrets.token_hex(12)
        notes.append(
            {
                "id": note_id,
                "room_id": room_id,
                "area_id": note.area_id,
                "text": note.text,
                "color": note.color,
                "author_id": new_id[note.author_id],
                "statement_id": note.statement_id,
                "position": float(note.order + 1),
                "version": note.version,
                "created_at": note.created_at,
                "updated_at": note.updated_at,
            }
        )
        votes += [{"note_id": note_id, "voter_id": new_id[v], "room_id": room_id} for v in set(note.voter_ids)]
    scores: list[dict[str, object]] = [
        {
            "room_id": room_id,
            "participant_id": new_id[s.participant_id],
            "round": s.round,
            "kind": s.kind,
            "statement_id": s.statement_id,
            "value": to_stored(s.value),
        }
        for s in export.scores
    ]
    return {m.Participant: participants, m.Note: notes, m.NoteVote: votes, m.Score: scores}
