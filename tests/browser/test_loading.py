"""How a page loads, as Chromium does it: every module it needs announced in its head (so a
phone on a weak link fetches them all at once, not one import level per round trip), each
fetched once, and every preload the head makes actually used by the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

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
    requested = [url for url in browse.watch_of(page).requests if url.endswith(".js")]

    assert len(announced["entry"]) == 1
    assert announced["modules"], "no modulepreload at all"
    assert sorted(requested) == sorted(announced["entry"] + announced["modules"]), (
        "the page fetched modules its head does not announce, or announces modules it never loads"
    )


def test_the_locale_the_head_preloads_is_the_one_fetched(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room()
    context = browse.context(PHONE)
    context.add_init_script(RECORD_FETCHES)
    page = browse.page(room.participant_path, context=context, name="participant")
    wait_online(page)
    preloads = loaded(page)["preloads"]
    assert [url.rsplit("/static/", 1)[1] for url in preloads] == ["locales/sv.json"]
    assert preloads[0] in page.evaluate("window.fetchedByScripts"), "preloaded, but no script fetches it"
    # Over the network once, by the head; the scripts' fetches of it were answered locally.
    loads = page.evaluate(LOADS, preloads[0])
    assert [initiator for initiator, networked in loads if networked] == ["link"], loads
