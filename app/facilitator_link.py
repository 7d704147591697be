"""The facilitator link and its QR code, for handing the room's console to another device.

Whoever holds the link controls the room, so its QR code is made where the secret already
is, and nowhere it could be kept: the token travels in the Authorization header of a POST
(never in a path or query string, which access logs and proxies record), the answer may not
be stored by any cache (`no-store`), and nothing here logs. The browser could draw the code
itself, but only with a QR encoder vendored into the frontend; segno, already used for the
participant QR code, is a well-kept encoder made for the job.
"""

from __future__ import annotations

import io
from typing import Annotated

import segno
from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api import MAIN_FACILITATOR_ONLY, ServicesDep, require_main_facilitator, room_urls
from app.errors import errors

router = APIRouter()
NOT_STORED = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class FacilitatorLink(BaseModel):
    facilitator_url: str
    qr_svg: str


def qr_svg(text: str) -> str:
    """A standalone SVG QR code of `text` (usable as an <img> data: URL), with no title:
    the secret should not travel further than the code itself."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=10, xmldecl=False, dark="#000", light="#fff")
    return buffer.getvalue().decode()


@router.post(
    "/api/rooms/{room_id}/facilitator-link",
    response_model=FacilitatorLink,
    responses={200: {"headers": {"Cache-Control": {"description": "no-store"}}}, **errors(*MAIN_FACILITATOR_ONLY)},
)
async def facilitator_link(
    room_id: str, services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """The room's facilitator link (as `POST /api/rooms` named it) and an SVG QR code of it,
    for the facilitator's own other device. The facilitator token only (a co-facilitator's
    key gets 403): to hand the room to someone else, make a co-facilitator link
    (`POST /api/rooms/{room_id}/co-facilitators`), which can be revoked."""
    await require_main_facilitator(services, room_id, authorization)
    token = (authorization or "")[7:].strip()
    _, url = room_urls(services, room_id, token)
    body = FacilitatorLink(facilitator_url=url, qr_svg=qr_svg(url))
    return JSONResponse(body.model_dump(), headers=NOT_STORED)
