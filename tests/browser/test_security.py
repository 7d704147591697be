"""What the browser must never do: run what someone typed, load anything from another host,
or serve a page without a strict Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.browser.conftest import (
    CSP_REPORTER,
    PHONE,
    PROJECTOR,
    VIEWS,
    Browse,
    PageWatch,
    Room,
    Tour,
    notes_in,
    wait_online,
)
from tests.servers import ServerProcess

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
NAME = "<img src=x onerror=alert('name')>"
TITLE = "<b>Rum</b> <script>alert('title')</script>"


def test_markup_in_notes_names_and_title_is_shown_as_text(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room(TITLE)
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="document")
    with room.bot(name=NAME) as bot:
        bot.add_note("thoughts", SCRIPT)

    participant = browse.page(room.participant_path, PHONE, name="participant")
    wait_online(participant)
    participant.get_by_label("Ny lapp i ”Tankar och resonemang som lyfts”").fill(IMG)
    participant.get_by_role("button", name="Lägg till lapp").first.click()
    presenter = browse.page(room.facilitator_url, PROJECTOR, name="presenter")
    wait_online(presenter)
    presenter.get_by_role("button", name="Tavlan", exact=True).click()
    board = browse.page(room.board_path, PROJECTOR, name="board")
    wait_online(board)

    pages = [participant, presenter, board]
    for page in pages:
        expect(notes_in(page, "thoughts").locator(".note-text")).to_have_text([SCRIPT, IMG])
        expect(notes_in(page, "thoughts").first.locator(".note-meta")).to_have_text(f"av {NAME}")
        expect(page.locator(".room-title")).to_have_text(TITLE)
        expect(page).to_have_title(re.compile(rf"^{re.escape(TITLE)} – .*Samskapa$"))
        expect(page.locator("#app img:not(.qr):not(.screen-qr)")).to_have_count(0)
        expect(page.locator("#app script, #app b")).to_have_count(0)
    # One more note through the whole path: by the time it shows, an injected handler would
    # have fetched its "x" and fired.
    with room.bot() as bot:
        bot.add_note("insights", "Sista lappen")
    for page in pages:
        expect(notes_in(page, "insights", "Sista lappen")).to_have_count(1)
        watch = browse.watch_of(page)
        assert watch.dialogs == []
        assert [url for url in watch.requests if urlsplit(url).path.endswith("/x")] == []


# ---------------------------------------------------------------- every view, on the tour (see conftest)


def test_no_view_loads_anything_from_another_host(tour: Tour) -> None:
    requests = [url for watch in tour.watches for url in watch.requests]
    sockets = [url for watch in tour.watches for url in watch.websockets]
    assert len(tour.watches) == len(VIEWS)
    assert any(re.search(r"/static/[0-9a-f]{12}/js/participant\.js$", url) for url in requests)
    assert any(url.endswith("/qr.svg") for url in requests)
    assert any("/export?format=html" in url for url in requests)
    assert len(sockets) >= len(VIEWS) - 1  # every view but the start page is live
    foreign = {f"{watch.name}: {url}" for watch in tour.watches for url in watch.foreign}
    assert not foreign, "requests to other hosts:\n" + "\n".join(sorted(foreign))


def test_every_page_is_served_with_a_strict_csp(tour: Tour) -> None:
    documents = [document for watch in tour.watches for document in watch.documents]
    paths = {re.sub(r"^/r/[^/]+", "/r/{id}", urlsplit(url).path) for url, _ in documents}
    assert paths == {"/", "/r/{id}", "/r/{id}/present", "/r/{id}/board", "/r/{id}/screen"}
    for url, headers in documents:
        policy = headers.get("content-security-policy")
        assert policy, f"no Content-Security-Policy on {url}"
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'", policy
        assert directives["script-src"] == "'self'", policy
        assert directives["object-src"] == "'none'", policy
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, policy
        assert headers.get("x-content-type-options") == "nosniff", url


def test_no_view_violates_its_policy(tour: Tour) -> None:
    violations = [f"{watch.name}: {text}" for watch in tour.watches for text in watch.csp_violations]
    assert not violations, "\n".join(violations)
    errors = [f"{watch.name}: {error}" for watch in tour.watches for error in watch.page_errors + watch.dialogs]
    assert not errors, "\n".join(errors)


def test_the_policy_is_enforced(browser: Browser, live_server: ServerProcess) -> None:
    """The header is not decoration: an injected inline script or a foreign image is refused,
    and the refusal is what `browse` would report."""
    context = browser.new_context()
    context.add_init_script(CSP_REPORTER)
    try:
        page = context.new_page()
        watch = PageWatch("probe")
        watch.attach(page)
        page.goto(live_server.base_url + "/")
        expect(page.get_by_role("button", name="Gå med")).to_be_visible()

        def reported(directive: str) -> Callable[[ConsoleMessage], bool]:
            return lambda message: message.text.startswith(f"CSP violation: {directive}")

        with page.expect_console_message(reported("script-src")):
            page.evaluate(
                """() => {
                  const script = document.createElement("script");
                  script.textContent = "window.injected = true";
                  document.head.append(script);
                }"""
            )
        assert page.evaluate("window.injected") is None
        with (
            page.expect_console_message(reported("img-src")),
            page.expect_event("requestfailed", lambda request: "203.0.113.9" in request.url) as refused,
        ):
            page.evaluate(
                """() => {
                  const image = new Image();
                  image.src = "http://203.0.113.9/pixel.png";  // TEST-NET-3: routed nowhere
                  document.body.append(image);
                }"""
            )
        assert refused.value.failure == "csp", refused.value.failure  # refused before it left
        assert len(watch.csp_violations) >= 2, watch.console_errors
    finally:
        context.close()
