"""How a page loads, as Chromium does it: every module it needs announced in its head (so a
phone on a weak link fetches them all at once, not one import level per round trip), each
fetched once, and every preload the head makes actually used by the page. What a page
imports only later (`import()`) is not announced, and the participant page fetches it only
once its first screen is drawn."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, WebSocket, expect

from app.module_graph import lazy_modules
from app.pages import FRONTEND_DIR
from tests.browser.conftest import PHONE, PROJECTOR, Browse, Room, wait_online

ANNOUNCED = """() => ({
  modules: [...document.querySelectorAll('link[rel="modulepreload"]')].map((link) => link.href),
  entry: [...document.querySelectorAll('script[type="module"]')].map((script) => script.src),
  preloads: [...document.querySelectorAll('link[rel="preload"]')].map((link) => link.href),
})"""
# What the page's scripts fetch(), recorded before any of them runs.
RECORD_FETCHES = """
window.fetchedByScripts = [];
const originalFetch = window.fetch;
window.fetch = (resource, options) => {
  window.fetchedByScripts.push(new URL(String(resource), location.href).href);
  return originalFetch(resource, options);
};
"""
# Resource Timing of one URL: each time it was loaded, and whether it crossed the network.
LOADS = """(url) => performance.getEntriesByName(url).map((entry) => [entry.initiatorType, entry.transferSize > 0])"""


def loaded(page: Page) -> dict[str, list[str]]:
    announced: dict[str, list[str]] = page.evaluate(ANNOUNCED)
    return announced


@pytest.mark.parametrize(
    ("view", "viewport"),
    [("participant", PHONE), ("presenter", PROJECTOR), ("board", PROJECTOR), ("screen", PROJECTOR), ("start", PHONE)],
)
def test_every_module_a_page_loads_is_announced_in_its_head(
    browse: Browse, new_room: Callable[..., Room], view: str, viewport: dict[str, int]
) -> None:
    room = new_room()
    path = {
        "participant": room.participant_path,
        "presenter": room.facilitator_url,
        "board": room.board_path,
        "screen": f"/r/{room.room_id}/screen",
        "start": "/",
    }[view]
    page = browse.page(path, viewport, name=view)  # type: ignore[arg-type]
    if view == "start":
        expect(page.get_by_role("button", name="Gå med")).to_be_visible()
    else:
        wait_online(page)
    announced = loaded(page)
    entries = [url.split("/static/", 1)[1].split("/", 1)[1] for url in announced["entry"]]
    later = {f"{announced['entry'][0].rsplit('/js/', 1)[0]}/{module}" for module in lazy_modules(FRONTEND_DIR, entries)}
    requested = [url for url in browse.watch_of(page).requests if url.endswith(".js")]

    assert announced["modules"], "no modulepreload at all"
    assert not later & set(announced["modules"]), "a module imported only later is announced"
    assert sorted(url for url in requested if url not in later) == sorted(announced["entry"] + announced["modules"]), (
        "the page fetched modules its head does not announce, or announces modules it never loads"
    )
    assert len(requested) == len(set(requested)), "a module was fetched twice"


def test_the_page_carries_its_style_and_swedish_words_and_fetches_only_another_language(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    """Swedish, the page's language and every page's fallback, comes in the page itself, and
    so does its style sheet (app/inlined_files.py): the phone asks for neither. A reader who
    chose English fetches English, once, beside the modules under their version."""
    room = new_room()
    context = browse.context(PHONE)
    context.add_init_script(RECORD_FETCHES)
    page = browse.page(room.participant_path, context=context, name="participant")
    wait_online(page)
    expect(page.get_by_role("button", name="Spara")).to_be_visible()
    assert page.evaluate("window.fetchedByScripts") == []
    sheets = browse.watch_of(page).requests
    assert not [url for url in sheets if url.endswith((".css", ".json"))], sheets
    # The style applies: the header's colour is the style sheet's, not the browser's white.
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") != "rgba(0, 0, 0, 0)"

    page.get_by_label("Språk").select_option("en")
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    fetched = page.evaluate("window.fetchedByScripts")
    assert [url.rsplit("/", 2)[1:] for url in fetched] == [["locales", "en.json"]], fetched
    assert "/static/" in fetched[0] and fetched[0].split("/static/")[1].split("/")[0] != "locales"


def test_the_participant_page_opens_one_socket_early_and_loses_nothing_it_heard_before_it_ran(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    """The page's first small module opens the room's socket while the main module is still
    on its way (early-connection.js). Here the main module is held back until the welcome
    and a phase change have arrived: the page, once it runs, takes that socket over (no
    second one), shows the phase it missed, and speaks the room's language, which it could
    only learn from the welcome it never saw arrive."""
    room = new_room(language="en")
    context = browse.context(PHONE)
    held: list[Route] = []
    context.route(re.compile(r"/js/participant\.js$"), lambda route: held.append(route))
    frames: list[dict[str, Any]] = []
    sockets: list[WebSocket] = []

    def opened(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    context.on("page", lambda page: page.on("websocket", opened))
    page = browse.page(room.participant_path, context=context, name="participant", wait_until="commit")
    with page.expect_websocket() if not sockets else contextlib.nullcontext():
        pass
    if not any(frame["type"] == "welcome" for frame in frames):
        with sockets[0].expect_event("framereceived", lambda payload: json.loads(payload)["type"] == "welcome"):
            pass
    with (
        room.facilitator() as facilitator,
        sockets[0].expect_event("framereceived", lambda payload: json.loads(payload)["type"] == "phase_changed"),
    ):
        facilitator.send("set_phase", phase="grade")
    # Nothing of the page has run yet: it still shows the HTML's own "loading".
    expect(page.locator("p.loading")).to_be_visible()
    assert len(held) == 1, "the main module was not held back"

    held[0].continue_()
    expect(page.locator(".room-header .status")).to_have_text("Connected")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("section.grading li.statement")).to_have_count(10)
    assert len(browse.watch_of(page).websockets) == 1, browse.watch_of(page).websockets


def test_a_socket_that_ended_before_the_page_ran_is_an_ended_room_not_a_page_that_waits(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    """A room deleted while its page loads: the early socket hears the refusal and the close
    (4004) before the main module has arrived. The page, once it runs, must say the room is
    not there, from what the early socket heard, and not try again. (A room already gone
    when its link is opened gets no page at all: tests/browser/test_gone_rooms.py.)"""
    room = new_room("Tas bort medan sidan laddar")
    context = browse.context(PHONE)
    held: list[Route] = []
    early: list[Route] = []
    context.route(re.compile(r"/js/participant\.js$"), lambda route: held.append(route))
    context.route(re.compile(r"/js/early-connection\.js$"), lambda route: early.append(route))
    closed: list[int] = []

    def opened(socket: WebSocket) -> None:
        socket.on("close", lambda _: closed.append(1))

    context.on("page", lambda page: page.on("websocket", opened))
    page = browse.page(room.participant_path, context=context, name="participant", wait_until="commit")
    for _ in range(100):  # the page asks for its early module at once; at most 10 s
        if early:
            break
        page.wait_for_timeout(100)
    assert len(early) == 1, "the early module was not held back"
    deleted = httpx.delete(
        f"{room.base_url}/api/rooms/{room.room_id}",
        headers={"Authorization": f"Bearer {room.facilitator_token}"},
        timeout=10,
    )
    assert deleted.status_code == 204
    early[0].continue_()
    for _ in range(100):  # the refusal takes a round trip; at most 10 s
        if closed:
            break
        page.wait_for_timeout(100)
    assert closed, "the early socket was never closed by the server"
    assert len(held) == 1, "the main module was not held back"
    held[0].continue_()
    expect(page.get_by_text("Rummet finns inte, eller har tagits bort.")).to_be_visible()
    expect(page.locator(".room-header .status")).to_have_text("Inte ansluten")
    page.wait_for_timeout(1500)  # longer than the first reconnect would wait
    assert len(browse.watch_of(page).websockets) == 1, "the page tried again after a final close"


def test_a_timer_shows_on_the_phone_when_it_joins_during_one_and_when_one_starts_later(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    """The header's countdown is not among the first screen's modules (header-timer.js is
    imported when a room has a timer): a phone that joins while one runs shows it, and a
    phone already in the room shows one the facilitator starts."""
    room = new_room()
    with room.facilitator() as facilitator:
        facilitator.send("set_timer", seconds=300)
        joining = browse.page(room.participant_path, PHONE, name="joins during the timer")
        wait_online(joining)
        expect(joining.locator(".room-header .timer")).to_have_text(re.compile(r"^Tid kvar [45]:\d\d$"))
        facilitator.send("set_timer", seconds=None)
        expect(joining.locator(".room-header .timer")).to_be_hidden()

        facilitator.send("set_timer", seconds=90)
        expect(joining.locator(".room-header .timer")).to_have_text(re.compile(r"^Tid kvar 1:[23]\d$"))
