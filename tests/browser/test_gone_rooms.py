"""The address of a room that is not there, in Chromium (issue 22): a deleted room's pages
(the participant page, the console, the projector, the board) answer 404 and an expired
room's 410, with a small page in the app's look that says so in Swedish, English and
Finnish and leads to the start page; no script runs and no socket is opened for a room that
is gone. axe finds nothing serious on it, on a phone or a projector; the screenshots are
in artifacts/screenshots/ (gone-404-*, gone-410-*).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import PHONE, PROJECTOR, START_HEADING, Browse, Room, screenshot
from tests.servers import ServerProcess

BLOCKING = {"serious", "critical"}
SIZES: dict[str, ViewportSize] = {"390x844": PHONE, "1920x1080": PROJECTOR}
NOT_FOUND = {
    "sv": ("Rummet finns inte", "Det finns inget rum på den här adressen.", "Till startsidan"),
    "en": ("There is no such room", "There is no room at this address.", "Go to the start page"),
    "fi": ("Huonetta ei ole", "Tässä osoitteessa ei ole huonetta.", "Etusivulle"),
}
EXPIRED = {
    "sv": ("Rummet har gått ut", "Det raderas, med allt som fanns i det", "Till startsidan"),
    "en": ("The room has expired", "It is being deleted, with everything in it", "Go to the start page"),
    "fi": ("Huone on vanhentunut", "Se poistetaan kaikkineen", "Etusivulle"),
}


def room_paths(room_id: str) -> list[str]:
    return [f"/r/{room_id}", f"/r/{room_id}/present", f"/r/{room_id}/screen", f"/r/{room_id}/board"]


def assert_accessible(page: Page) -> None:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    blocking = [
        f"{v['impact']}: {v['id']} {v['help']} {[node['target'] for node in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert not blocking, blocking


def open_gone(browse: Browse, path: str, viewport: ViewportSize, status: int) -> Page:
    """Open the address as a person would, and check what the browser was answered."""
    page = browse.page(path, viewport, name=f"{status} {path}")
    response = page.reload()  # the same answer again, now with its status in hand
    assert response is not None and response.status == status, (path, response and response.status)
    return page


def assert_says(page: Page, words: dict[str, tuple[str, str, str]]) -> None:
    """Each language's heading, sentence and link, in a section marked with that language;
    Swedish first, as the page's own language, and the only first-level heading."""
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sv"][0])
    expect(page).to_have_title(f"{words['sv'][0]} – Samskapa")
    for language, (heading, sentence, home) in words.items():
        section = page.locator(f'main section[lang="{language}"]')
        expect(section.get_by_role("heading")).to_have_text(heading)
        expect(section.get_by_text(sentence)).to_be_visible()
        expect(section.get_by_role("link", name=home)).to_have_attribute("href", "/")


def assert_nothing_ran(browse: Browse, page: Page) -> None:
    watch = browse.watch_of(page)
    assert watch.websockets == [], "a room that is gone opened a socket"
    assert not [url for url in watch.requests if url.endswith(".js")], watch.requests


def photograph(page: Page, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.evaluate("window.scrollTo(0, 0)")
        assert_accessible(page)
        width = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert width == 0, f"{name} scrolls {width} px sideways at {size}"
        screenshot(page, f"{name}-{size}")


def test_a_deleted_rooms_pages_say_it_is_gone_in_three_languages_and_lead_home(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    room = new_room("Rummet som togs bort")
    first = browse.page(room.participant_path, PHONE, name="before")
    expect(first.locator(".room-header .status")).to_have_text("Ansluten")
    deleted = httpx.delete(
        f"{room.base_url}/api/rooms/{room.room_id}",
        headers={"Authorization": f"Bearer {room.facilitator_token}"},
        timeout=10,
    )
    assert deleted.status_code == 204
    for path in room_paths(room.room_id):
        page = open_gone(browse, path, PHONE, 404)
        assert_says(page, NOT_FOUND)
        assert_nothing_ran(browse, page)
    photograph(page, "gone-404")
    page.get_by_role("link", name="Till startsidan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(START_HEADING)


def test_a_keyboard_reaches_the_way_home_first(browse: Browse) -> None:
    page = open_gone(browse, "/r/no-such-room", PHONE, 404)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Samskapa")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Till startsidan")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(START_HEADING)


@pytest.fixture(scope="module")
def expiring_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Rooms that expire within two seconds, a sweeper that will not come for an hour."""
    data = tmp_path_factory.mktemp("expiring")
    server = ServerProcess(
        f"sqlite:///{data / 'expiring.db'}", data, room_ttl_days=str(2 / 86400), expiry_sweep_seconds="3600"
    )
    server.start()
    yield server
    server.stop()


def test_an_expired_rooms_pages_say_it_has_expired(browser: Browser, expiring_server: ServerProcess) -> None:
    created = httpx.post(f"{expiring_server.base_url}/api/rooms", json={"title": "Kortlivat"}, timeout=10)
    assert created.status_code == 201, created.text
    room_id, join_code = created.json()["room_id"], created.json()["join_code"]
    deadline = time.monotonic() + 10
    while httpx.get(f"{expiring_server.base_url}/api/join/{join_code}", timeout=10).status_code == 200:
        assert time.monotonic() < deadline, "the room did not expire"
        time.sleep(0.2)
    browse = Browse(browser, expiring_server.base_url)
    try:
        for path in room_paths(room_id):
            page = open_gone(browse, path, PROJECTOR, 410)
            assert_says(page, EXPIRED)
            assert_nothing_ran(browse, page)
        photograph(page, "gone-410")
    finally:
        browse.close()
    problems = [problem for watch in browse.watches for problem in watch.problems()]
    assert not problems, problems
