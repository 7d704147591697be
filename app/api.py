"""The HTTP API: templates, creating, finding and deleting rooms, the QR code, health, the
live protocol's machine-readable document."""

from __future__ import annotations

import asyncio
import hmac
import io
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field, ValidationError

from app import join_codes, protocol_schema
from app import models as m
from app import protocol as p
from app.clock import as_utc, now_utc
from app.errors import INVALID_REQUEST, TOO_LARGE, UNPARSABLE_BODY, ApiError, Refusal, errors, field_problems
from app.limits import AddressLimit
from app.rows import room_row
from app.services import Services
from app.store import JoinCodeTaken
from app.templates import DEFAULT_TEMPLATE_ID, Language, Template, builtin_templates
from app.text import PlainText, is_room_id
from app.tokens import hash_token

router = APIRouter()
JOIN_CODE_ATTEMPTS = 20
# What each route can answer besides success, as its `responses` declare (app/errors.py).
ROOM_NOT_FOUND = Refusal(404, "room_not_found", "no live room has this id (a wrong one, or it expired or was deleted)")
UNAUTHORIZED = Refusal(401, "unauthorized", "no `Authorization: Bearer` token")
# require_facilitator and require_main_facilitator
FACILITATOR_ONLY = (
    UNAUTHORIZED,
    Refusal(403, "forbidden", "the token is not a key of this room (a revoked co-facilitator key is none)"),
    ROOM_NOT_FOUND,
)
MAIN_FACILITATOR_ONLY = (
    UNAUTHORIZED,
    Refusal(403, "forbidden", "the token is not the room's facilitator token (a co-facilitator's key is refused)"),
    ROOM_NOT_FOUND,
)
# RoomCreationLimit and open_room: creating or importing a room
OPENS_A_ROOM = (
    Refusal(
        429, "rate_limited", "`rooms_created_per_hour` rooms created or imported from this address (`Retry-After`)"
    ),
    Refusal(503, "no_join_code", "every join code is held by a live room"),
)


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


@dataclass(frozen=True)
class _RoomBudget:
    limit: AddressLimit
    address: str


# The room-creation budget of the request being served: left by its RoomCreationLimit,
# spent by open_room. A context variable, since each route reaches open_room in its own way
# and none of them has to hand the budget on (nor can forget to).
_room_budget: ContextVar[_RoomBudget | None] = ContextVar("room_budget", default=None)


async def limit_room_creation(request: Request, services: ServicesDep) -> None:
    """Creating and importing rooms: at most rooms_created_per_hour per client address, so
    that nobody can fill the join codes (app/join_codes.py).

    Only a request that has turned out valid spends the budget; a refused one (an empty
    title: 422) does not, or sixty mistakes would lock a school's address out for an hour.
    An address already over budget is refused here, before its body is read; the budget is
    spent by open_room, after the route's checks and before the room is stored, in one
    atomic step, so that requests sent in parallel cannot all pass a check made before any
    of them counted."""
    client = services.addresses.client_of(request.scope)
    if not await services.room_limiter.test(client):
        raise _too_many_rooms(await services.room_limiter.retry_after(client))
    _room_budget.set(_RoomBudget(services.room_limiter, client))


async def _spend_room_budget() -> None:
    budget = _room_budget.get()
    if budget is None:
        raise RuntimeError("a room is being opened by a route that is not limited by RoomCreationLimit")
    _room_budget.set(None)
    if not await budget.limit.hit(budget.address):
        raise _too_many_rooms(await budget.limit.retry_after(budget.address))


def _too_many_rooms(retry_after: int) -> ApiError:
    message = "Too many rooms created from your address; wait a while."
    return ApiError(429, "rate_limited", message, headers={"Retry-After": str(retry_after)})


RoomCreationLimit = Annotated[None, Depends(limit_room_creation)]


class RoomCreate(BaseModel):
    title: Annotated[str, PlainText(min_length=1, max_length=120, strip=True)]
    template: str | dict[str, Any] = Field(
        default=DEFAULT_TEMPLATE_ID, description="A built-in template id, or a whole template."
    )
    language: Language = "sv"


class RoomCreated(BaseModel):
    room_id: str
    join_code: str
    participant_url: str
    facilitator_url: str
    facilitator_token: str


class JoinTarget(BaseModel):
    room_id: str
    title: str


class Health(BaseModel):
    status: str


@router.get(
    "/healthz",
    response_model=Health,
    responses=errors(Refusal(503, "store_unavailable", "the database does not answer")),
)
async def health(services: ServicesDep) -> Health:
    try:
        await asyncio.to_thread(services.store.ping)
    except Exception as error:
        raise ApiError(503, "store_unavailable", "The database does not answer.") from error
    return Health(status="ok")


@router.get("/api/templates", response_model=list[Template], responses=errors())
async def list_templates() -> list[Template]:
    return list(builtin_templates().values())


@router.get(
    "/api/templates/{template_id}",
    response_model=Template,
    responses=errors(Refusal(404, "template_not_found", "no built-in template has this id")),
)
async def get_template(template_id: str) -> Template:
    template = builtin_templates().get(template_id)
    if template is None:
        raise ApiError(404, "template_not_found", f"No template {template_id!r}.")
    return template


def _resolve_template(choice: str | dict[str, Any]) -> Template:
    if isinstance(choice, str):
        template = builtin_templates().get(choice)
        if template is None:
            raise ApiError(422, "template_not_found", f"No template {choice!r}.")
        return template
    try:
        return Template.model_validate(choice)
    except ValidationError as error:
        problems = field_problems(error, prefix="template")
        message = "The template is not valid: " + "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
        raise ApiError(422, "invalid_template", message, problems) from error


def room_urls(services: Services, room_id: str, facilitator_token: str) -> tuple[str, str]:
    base = services.settings.public_url
    # The token travels in the fragment, which browsers never send to a server or a log.
    return f"{base}/r/{room_id}", f"{base}/r/{room_id}/present#token={facilitator_token}"


@router.post(
    "/api/rooms",
    status_code=201,
    response_model=RoomCreated,
    responses=errors(
        INVALID_REQUEST,
        Refusal(422, "template_not_found", "`template` names no built-in template"),
        Refusal(422, "invalid_template", "the template object is not valid: `fields` names what"),
        UNPARSABLE_BODY,
        TOO_LARGE,
        *OPENS_A_ROOM,
    ),
)
async def create_room(body: RoomCreate, services: ServicesDep, _limit: RoomCreationLimit) -> RoomCreated:
    template = _resolve_template(body.template)
    created = now_utc()
    row = room_row(
        secrets.token_urlsafe(18),  # 144 random bits
        template,
        p.RoomConfig(title=body.title, language=body.language),
        p.RoomFlow(),
        created_at=created,
        expires_at=created + timedelta(days=services.settings.room_ttl_days),
    )
    return await open_room(services, row, services.store.create_room)


async def open_room(services: Services, row: m.Room, store_room: Callable[[m.Room], None]) -> RoomCreated:
    """Spend the request's room-creation budget (429 if it is gone), give the room a join
    code free among live rooms and a facilitator token, store it (`store_room` may write
    more in the same transaction), and say how to reach it."""
    await _spend_room_budget()
    facilitator_token = secrets.token_urlsafe(32)
    row.facilitator_token_hash = hash_token(facilitator_token)
    for attempt in range(JOIN_CODE_ATTEMPTS):
        code = await join_codes.candidate(attempt, services)
        if code is None:
            raise ApiError(503, "no_join_code", "All join codes are in use by live rooms; try again later.")
        row.join_code = code
        try:
            await asyncio.to_thread(store_room, row)
            break
        except JoinCodeTaken:
            continue
    else:
        raise ApiError(503, "no_join_code", "No free join code was found; try again.")
    participant_url, facilitator_url = room_urls(services, row.id, facilitator_token)
    return RoomCreated(
        room_id=row.id,
        join_code=row.join_code,
        participant_url=participant_url,
        facilitator_url=facilitator_url,
        facilitator_token=facilitator_token,
    )


@router.get(
    "/api/join/{join_code}",
    response_model=JoinTarget,
    responses=errors(
        Refusal(429, "rate_limited", "`join_lookups_per_minute` lookups from this address (`Retry-After`)"),
        Refusal(422, "invalid_join_code", "not six digits"),
        Refusal(404, "room_not_found", "no live room has this code"),
    ),
)
async def find_room_by_code(join_code: str, request: Request, services: ServicesDep) -> JoinTarget:
    """Rate-limited per client address, so the million codes cannot be walked."""
    client = services.addresses.client_of(request.scope)
    if not await services.join_limiter.hit(client):
        retry = await services.join_limiter.retry_after(client)
        raise ApiError(
            429,
            "rate_limited",
            "Too many join attempts; wait a minute.",
            headers={"Retry-After": str(retry)},
        )
    if not (len(join_code) == 6 and join_code.isascii() and join_code.isdigit()):
        raise ApiError(422, "invalid_join_code", "A join code is six digits.")
    row = await asyncio.to_thread(services.store.find_by_join_code, join_code, now_utc())
    if row is None:
        raise ApiError(404, "room_not_found", "No room has that code.")
    return JoinTarget(room_id=row.id, title=row.title)


async def require_facilitator(services: Services, room_id: str, authorization: str | None) -> m.Room:
    """The room's row if `authorization` carries a key that runs the room: the facilitator
    token, or a co-facilitator's (checked in the store, so a revoked one fails on every
    instance at once); 401/403/404 if not. Exporting asks this: whoever runs the room sees
    everything an export holds already, so an export hands over nothing new."""
    row = await _live_room_row(services, room_id)
    token_hash = hash_token(_bearer(authorization))
    if hmac.compare_digest(token_hash, row.facilitator_token_hash):
        return row
    co_facilitator = await asyncio.to_thread(services.store.use_co_facilitator, room_id, token_hash, now_utc())
    if co_facilitator is None:
        raise ApiError(403, "forbidden", "That is not a key of this room, or it was revoked.")
    return row


async def require_main_facilitator(services: Services, room_id: str, authorization: str | None) -> m.Room:
    """The room's row if `authorization` carries the facilitator token itself, the one that
    created the room; 401/403/404 if not. Deleting the room and handing out or revoking
    co-facilitator links ask this: a co-facilitator's key cannot do them."""
    row = await _live_room_row(services, room_id)
    if not hmac.compare_digest(hash_token(_bearer(authorization)), row.facilitator_token_hash):
        message = "Only the room's facilitator token may do this, not a co-facilitator's."
        raise ApiError(403, "forbidden", message)
    return row


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "unauthorized", "Send the facilitator token as 'Authorization: Bearer …'.")
    return authorization[7:].strip()


async def _live_room_row(services: Services, room_id: str) -> m.Room:
    row = await asyncio.to_thread(services.store.get_room, room_id) if is_room_id(room_id) else None
    if row is None or as_utc(row.expires_at) <= now_utc():
        raise ApiError(404, "room_not_found", "No such room.")
    return row


@router.get(
    "/api/rooms/{room_id}/qr.svg",
    responses={200: {"content": {"image/svg+xml": {}}}, **errors(ROOM_NOT_FOUND)},
    response_class=Response,
)
async def room_qr(room_id: str, services: ServicesDep) -> Response:
    await _live_room_row(services, room_id)
    participant_url = f"{services.settings.public_url}/r/{room_id}"
    qr = segno.make(participant_url, error="m")
    buffer = io.BytesIO()
    # A standalone SVG (with its namespace) so that it also works as an <img> source.
    qr.save(buffer, kind="svg", scale=10, xmldecl=False, dark="#000", light="#fff", title=participant_url)
    svg = buffer.getvalue()
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@router.delete(
    "/api/rooms/{room_id}", status_code=204, responses=errors(*MAIN_FACILITATOR_ONLY), response_class=Response
)
async def delete_room(
    room_id: str,
    services: ServicesDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Deletes the room and everything in it, for good. Needs the facilitator token itself:
    a co-facilitator's key is refused (403)."""
    await require_main_facilitator(services, room_id, authorization)
    await services.rooms.delete(room_id)
    return Response(status_code=204)


@router.get(
    "/api/schema/protocol.json",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **errors()},
)
async def protocol_document() -> Response:
    """The live protocol (docs/protocol.md) as an AsyncAPI 3.0 document, generated from its
    models: every message and its payload's JSON Schema, the error and close codes, and the
    protocol versions this server speaks."""
    return Response(protocol_schema.document_json(), media_type="application/json")
