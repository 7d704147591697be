"""Co-facilitator links: each with a key of its own, made, listed and revoked by the room's
facilitator.

Why keys of their own: the facilitator link hands over the facilitator token itself, which
cannot be taken back and can delete the room. A co-facilitator's key runs the room on the
socket exactly as the facilitator's does, and exports it (app/api.py's
`require_facilitator`: an export holds nothing its console does not show), but it cannot
delete the room or make, list or revoke these links. Revoking deletes its row, so the store,
which every instance asks at every use, refuses it from then on, and its open consoles are
closed with 4014 wherever they are connected (app/rooms.py).

Like the facilitator link, a key goes out once, in the body of the answer that made it (as
the link, whose fragment carries it, and a QR code of that link), never in a URL a log
would keep; only its hash is stored, and nothing here logs.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app import models as m
from app.api import MAIN_FACILITATOR_ONLY, ServicesDep, require_main_facilitator, room_urls
from app.clock import now_utc
from app.errors import INVALID_REQUEST, TOO_LARGE, UNPARSABLE_BODY, ApiError, Refusal, errors
from app.facilitator_link import NOT_STORED, qr_svg
from app.text import PlainText
from app.tokens import hash_token

router = APIRouter()
# Enough for every co-facilitator and spare device of a workshop, few enough that the store
# compares them all at every use (app/tokens.py) and the console's list stays short.
MAX_CO_FACILITATORS = 20
PATH = "/api/rooms/{room_id}/co-facilitators"
NO_STORE: dict[str, Any] = {"headers": {"Cache-Control": {"description": "no-store"}}}


class CoFacilitatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[str, PlainText(max_length=60, strip=True)] | None = Field(
        default=None, description="Whom the link is for, as the facilitator will recognise it (e.g. a name)."
    )


class CoFacilitator(BaseModel):
    id: str
    label: str | None
    created_at: datetime
    used_at: datetime | None = Field(description="The first time the key was accepted; null if never used.")

    @classmethod
    def of(cls, row: m.CoFacilitator) -> CoFacilitator:
        return cls(id=row.id, label=row.label, created_at=row.created_at, used_at=row.used_at)


class CoFacilitatorMade(CoFacilitator):
    token: str = Field(description="The key itself: shown only in this answer, stored only as its hash.")
    link: str = Field(description="The console's address with the key in its fragment (#token=…).")
    qr_svg: str = Field(description="An SVG QR code of the link, without its text.")


@router.post(
    PATH,
    status_code=201,
    response_model=CoFacilitatorMade,
    responses={
        201: NO_STORE,
        **errors(
            *MAIN_FACILITATOR_ONLY,
            Refusal(409, "too_many_co_facilitators", f"the room has {MAX_CO_FACILITATORS} links already"),
            INVALID_REQUEST,
            UNPARSABLE_BODY,
            TOO_LARGE,
        ),
    },
)
async def make_co_facilitator(
    room_id: str,
    services: ServicesDep,
    body: CoFacilitatorCreate | None = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A new co-facilitator link with a key of its own. The facilitator token only (a
    co-facilitator's key gets 403); at most 20 per room (409 `too_many_co_facilitators`)."""
    await require_main_facilitator(services, room_id, authorization)
    token = secrets.token_urlsafe(32)
    row = m.CoFacilitator(
        id="cf_" + secrets.token_urlsafe(12),
        room_id=room_id,
        token_hash=hash_token(token),
        label=(body.label if body else None) or None,
        created_at=now_utc(),
    )
    outcome = await asyncio.to_thread(services.store.add_co_facilitator, row, MAX_CO_FACILITATORS)
    if outcome == "no_room":
        raise ApiError(404, "room_not_found", "No such room.")
    if outcome == "full":
        message = f"A room has at most {MAX_CO_FACILITATORS} co-facilitator links; revoke one first."
        raise ApiError(409, "too_many_co_facilitators", message)
    _, link = room_urls(services, room_id, token)
    made = CoFacilitatorMade(**CoFacilitator.of(row).model_dump(), token=token, link=link, qr_svg=qr_svg(link))
    return JSONResponse(made.model_dump(mode="json"), status_code=201, headers=NOT_STORED)


@router.get(PATH, response_model=list[CoFacilitator], responses={200: NO_STORE, **errors(*MAIN_FACILITATOR_ONLY)})
async def list_co_facilitators(
    room_id: str, services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """The room's co-facilitator links, oldest first, without their keys (which are not
    stored). The facilitator token only."""
    await require_main_facilitator(services, room_id, authorization)
    rows = await asyncio.to_thread(services.store.co_facilitators, room_id)
    listed = [CoFacilitator.of(row).model_dump(mode="json") for row in rows]
    return JSONResponse(listed, headers=NOT_STORED)


@router.delete(
    PATH + "/{co_facilitator_id}",
    status_code=204,
    responses=errors(
        *MAIN_FACILITATOR_ONLY, Refusal(404, "co_facilitator_not_found", "the room has no link with this id")
    ),
    response_class=Response,
)
async def revoke_co_facilitator(
    room_id: str, co_facilitator_id: str, services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """Revoke a co-facilitator link: its key is refused from now on (401/403 over HTTP, a
    refused hello on the socket), and its open consoles are closed with 4014 at once. The
    facilitator token only; 404 `co_facilitator_not_found` for a link the room does not have."""
    await require_main_facilitator(services, room_id, authorization)
    if not await asyncio.to_thread(services.store.revoke_co_facilitator, room_id, co_facilitator_id):
        raise ApiError(404, "co_facilitator_not_found", "The room has no such co-facilitator link.")
    services.rooms.revoke_co_facilitator(room_id, co_facilitator_id)
    return Response(status_code=204)
