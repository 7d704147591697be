"""A page older than the server's protocol (close 4426, CLIENT_TOO_OLD) reloads itself once
to get the current release, and after that says so with a reload button instead of looping.

The server speaks every version today's pages do, so the refusal is played by a routed
socket: every socket the page opens to the room is closed at once with 4426, as the server
closes a hello that names only versions older than its own (tests/test_protocol_versions.py
holds the server to that).
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Request, WebSocketRoute, expect

from app.protocol import CloseCode
from tests.browser.conftest import PHONE, Browse, Room


def test_a_page_too_old_reloads_once_then_offers_a_reload(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room()
    context = browse.context(PHONE, touch=True)
    sockets: list[str] = []

    def refuse(socket: WebSocketRoute) -> None:
        sockets.append(socket.url)
        socket.close(code=int(CloseCode.CLIENT_TOO_OLD), reason="Protocol 1 is too old: reload the page.")

    context.route_web_socket("**/ws/rooms/**", refuse)
    loads: list[str] = []

    def count(request: Request) -> None:
        if request.resource_type == "document":
            loads.append(request.url)

    context.on("request", count)
    page = browse.page(room.participant_path, context=context)
    expect(page.get_by_text("Sidan behöver laddas om")).to_be_visible()
    reload = page.get_by_role("button", name="Ladda om sidan")
    expect(reload).to_be_visible()
    page.wait_for_timeout(500)  # a loop would have reloaded again by now
    assert len(loads) == 2, f"the page loaded {len(loads)} times: {loads}"
    assert len(sockets) == 2, sockets
    # The button reloads by hand, however recent the last reload.
    reload.click()
    expect(page.get_by_role("button", name="Ladda om sidan")).to_be_visible()
    page.wait_for_timeout(300)
    assert len(loads) == 3, loads
