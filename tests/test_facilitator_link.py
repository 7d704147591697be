"""The facilitator link and its QR code, for opening the console on another device: only for
the room's facilitator, never cached, and the secret never in the server's log."""

from __future__ import annotations

import io

import httpx
import segno

from tests.conftest import NewRoom
from tests.servers import ServerProcess


def qr_of(text: str) -> str:
    """The SVG segno draws for `text` with the options a QR code of a link needs here."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=10, xmldecl=False, dark="#000", light="#fff")
    return buffer.getvalue().decode()


async def test_the_facilitator_gets_the_link_and_its_qr_code(
    http: httpx.AsyncClient, new_room: NewRoom, server: ServerProcess
) -> None:
    room = await new_room()
    url = f"/api/rooms/{room['room_id']}/facilitator-link"
    token = room["facilitator_token"]
    response = await http.post(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    # The very link the room was created with: /r/{id}/present#token=…, the secret in the fragment.
    assert body["facilitator_url"] == room["facilitator_url"]
    assert body["facilitator_url"] == f"{server.base_url}/r/{room['room_id']}/present#token={token}"
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"] == qr_of(room["facilitator_url"])
    assert token not in body["qr_svg"], "the code holds the link; the SVG's text must not spell it out"
    assert response.headers["cache-control"] == "no-store"
    assert token not in server.log(), "the facilitator's secret must never reach the log"


async def test_only_the_facilitator_gets_it(http: httpx.AsyncClient, new_room: NewRoom, server: ServerProcess) -> None:
    room = await new_room()
    other = await new_room()
    url = f"/api/rooms/{room['room_id']}/facilitator-link"
    missing = await http.post(url)
    assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
    wrong = await http.post(url, headers={"Authorization": f"Bearer {other['facilitator_token']}"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "forbidden"
    nowhere = await http.post(
        "/api/rooms/no-such-room/facilitator-link", headers={"Authorization": f"Bearer {room['facilitator_token']}"}
    )
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "room_not_found"
    # Only by POST: no link that a browser's history, a log or a proxy would keep works.
    assert (await http.get(url)).status_code == 405
    for refused in (missing, wrong, nowhere):
        assert "facilitator_url" not in refused.text
