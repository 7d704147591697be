"""What a facilitator sees when the server refuses to make a room: words to act on, in the
page's language, not an English error code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PROJECTOR, Browse, screenshot
from tests.servers import ServerProcess


@pytest.fixture
def one_room_an_hour(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(f"sqlite:///{tmp_path / 'samskapa.db'}", tmp_path, rooms_created_per_hour="1")
    server.start()
    yield server
    server.stop()


def test_a_facilitator_over_the_room_limit_is_told_to_wait(browser: Browser, one_room_an_hour: ServerProcess) -> None:
    browse = Browse(browser, one_room_an_hour.base_url)
    try:
        first = browse.page("/", PROJECTOR, name="first")
        first.get_by_label("Rummets namn").fill("Förmiddagens workshop")
        first.get_by_role("button", name="Skapa rummet").click()
        first.wait_for_url(re.compile(r"/r/[^/]+/present$"))

        again = browse.page("/", PROJECTOR, name="again")
        again.get_by_label("Rummets namn").fill("Eftermiddagens workshop")
        again.get_by_role("button", name="Skapa rummet").click()
        expect(again.get_by_role("alert")).to_have_text(
            "För många rum har skapats härifrån. Vänta en stund och försök igen."
        )
        expect(again.get_by_role("button", name="Skapa rummet")).to_be_enabled()
        assert again.url == one_room_an_hour.base_url + "/"
        screenshot(again, "start-room-limit")

        again.get_by_label("Språk", exact=True).select_option("en")
        again.get_by_label("Name of the room").fill("Afternoon workshop")
        again.get_by_role("button", name="Create the room").click()
        expect(again.get_by_role("alert")).to_have_text(
            "Too many rooms have been created from here. Wait a while and try again."
        )
    finally:
        browse.close()
    problems = [problem for watch in browse.watches for problem in watch.problems()]
    assert not problems, problems
