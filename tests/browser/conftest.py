"""Browser tests: a real `samskapa serve` on SQLite in a temporary directory and a real
Chromium, driven by Playwright's sync API.

Run apart from the main suite, without pytest-asyncio (whose event loop cannot share a
process with Playwright's sync API): `python -m pytest tests/browser -p no:asyncio`.

Every page a test opens goes through `browse`, which records what a user would never want to
see and fails the test at teardown if any of it happened: a request to another host, an
uncaught script error, a JavaScript dialog, a Content-Security-Policy violation.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Locator,
    Page,
    Playwright,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)
from websockets.sync.client import ClientConnection, connect

from tests.servers import ROOT, ServerProcess

PHONE: ViewportSize = {"width": 390, "height": 844}
PROJECTOR: ViewportSize = {"width": 1920, "height": 1080}
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("SAMSKAPA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Every wait in these tests has a deadline; a live update should take far less than this.
expect.set_options(timeout=10_000)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # This directory runs with `-p no:asyncio`; pyproject's asyncio keys would then be
    # unknown config options, which `filterwarnings = error` turns into an internal error.
    if not pluginmanager.has_plugin("asyncio"):
        for key in ("asyncio_mode", "asyncio_default_fixture_loop_scope"):
            parser.addini(key, "(pytest-asyncio's; unused while it is disabled)")


# ---------------------------------------------------------------- server and browser


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("browser-server")
    server = ServerProcess(
        f"sqlite:///{data_dir / 'samskapa.db'}",
        data_dir,
        new_participants_per_minute="10000",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    # The system Chromium where there is one (`playwright install` is not always possible);
    # else Playwright's own.
    executable = str(CHROMIUM) if CHROMIUM.exists() else None
    browser = playwright_instance.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# ---------------------------------------------------------------- pages, watched

CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "data":
        return True
    if parts.scheme == "blob":
        return is_local(url[len("blob:") :])
    return parts.hostname in LOCAL_HOSTS


@dataclass
class PageWatch:
    """Everything one page did that a test may want to look at afterwards."""

    name: str
    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    documents: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda socket: self.websockets.append(socket.url))
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._dialog)

    def _response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.documents.append((response.url, response.headers))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    @property
    def foreign(self) -> list[str]:
        return [url for url in self.requests + self.websockets if not is_local(url)]

    @property
    def csp_violations(self) -> list[str]:
        return [
            text
            for text in self.console_errors
            if text.startswith("CSP violation") or "Content Security Policy" in text
        ]

    def problems(self) -> list[str]:
        found = [f"request to another host: {url}" for url in self.foreign]
        found += [f"uncaught error: {error}" for error in self.page_errors]
        found += [f"dialog opened: {dialog}" for dialog in self.dialogs]
        found += [f"CSP: {text}" for text in self.csp_violations]
        return [f"[{self.name}] {problem}" for problem in found]


class Browse:
    """Opens pages in fresh browser contexts (one person, one device each) and watches them."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.watches: list[PageWatch] = []
        self._watch_of: dict[int, PageWatch] = {}
        self._names = itertools.count(1)

    def context(
        self, viewport: ViewportSize = PHONE, local_storage: dict[str, str] | None = None, touch: bool = False
    ) -> BrowserContext:
        """A fresh browser profile; `local_storage` is what the app finds already stored;
        `touch` makes it a phone's: a touch screen and a mobile viewport."""
        storage: Any = None
        if local_storage:
            items = [{"name": key, "value": value} for key, value in local_storage.items()]
            storage = {"cookies": [], "origins": [{"origin": self.base_url, "localStorage": items}]}
        context = self.browser.new_context(
            viewport=viewport,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
            storage_state=storage,
            has_touch=touch,
            is_mobile=touch,
        )
        context.add_init_script(CSP_REPORTER)
        self.contexts.append(context)
        return context

    def page(
        self,
        path: str = "/",
        viewport: ViewportSize = PHONE,
        context: BrowserContext | None = None,
        name: str | None = None,
        wait_until: Literal["commit", "load"] = "load",
    ) -> Page:
        """A new page at `path` (or a full URL); in a new context unless one is given.
        `wait_until="commit"` returns once the page's answer begins, for a test that holds
        back one of the page's files (its load event would wait for it)."""
        context = context or self.context(viewport)
        page = context.new_page()
        watch = PageWatch(name or f"page-{next(self._names)}")
        watch.attach(page)
        self.watches.append(watch)
        self._watch_of[id(page)] = watch
        page.goto(path if "://" in path else self.base_url + path, wait_until=wait_until)
        return page

    def watch_of(self, page: Page) -> PageWatch:
        return self._watch_of[id(page)]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(browser: Browser, live_server: ServerProcess) -> Iterator[Browse]:
    session = Browse(browser, live_server.base_url)
    yield session
    session.close()
    problems = [problem for watch in session.watches for problem in watch.problems()]
    if problems:
        pytest.fail("the pages did what they must never do:\n" + "\n".join(problems))


# ---------------------------------------------------------------- rooms and scripted people


@dataclass
class Room:
    room_id: str
    join_code: str
    participant_url: str
    facilitator_url: str
    facilitator_token: str
    base_url: str

    @property
    def participant_path(self) -> str:
        return f"/r/{self.room_id}"

    @property
    def board_path(self) -> str:
        return f"/r/{self.room_id}/board"

    def bot(self, name: str | None = None) -> Bot:
        return Bot(self.base_url, self.room_id, name=name)

    def facilitator(self) -> Bot:
        return Bot(self.base_url, self.room_id, token=self.facilitator_token)


class CommandRefused(Exception):
    pass


class Bot:
    """Someone speaking the live protocol directly, without a browser: sets a room up fast
    (phases, scores, notes) so that a test spends its browser time on what it tests."""

    _cids = itertools.count(1)

    def __init__(self, base_url: str, room_id: str, token: str | None = None, name: str | None = None) -> None:
        url = base_url.replace("http://", "ws://") + f"/ws/rooms/{room_id}"
        self._exit = ExitStack()
        # An unbounded queue: a bot that stays connected without reading never looks slow.
        self.socket: ClientConnection = self._exit.enter_context(
            connect(url, open_timeout=10, max_size=None, max_queue=None)
        )
        hello: dict[str, Any] = {"type": "hello", "token": token}
        if name:
            hello["name"] = name
        self.socket.send(json.dumps(hello))
        welcome = self.receive_until(lambda message: message["type"] in {"welcome", "error"})
        if welcome["type"] == "error":
            raise CommandRefused(welcome)
        self.participant_id: str | None = welcome["you"]["participant_id"]
        self.token: str | None = welcome["you"].get("token") or token
        self.notes: dict[str, dict[str, Any]] = {
            note["id"]: note for note in (welcome["snapshot"] or {}).get("notes", [])
        }

    def receive_until(self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message: dict[str, Any] = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message["type"] in {"note_added", "note_updated"}:
                self.notes[message["note"]["id"]] = message["note"]
            if wanted(message):
                return message

    def send(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a command and wait for the server's ack."""
        cid = f"bot-{next(self._cids)}"
        self.socket.send(json.dumps({"type": type_, "cid": cid, **fields}))
        reply = self.receive_until(lambda message: message.get("cid") == cid and message["type"] in {"ack", "error"})
        if reply["type"] == "error":
            raise CommandRefused(reply)
        return reply

    def add_note(self, area_id: str, text: str, color: str = "yellow") -> dict[str, Any]:
        """Add a note and return it as stored (its event may come before or after the ack)."""
        self.send("add_note", area_id=area_id, text=text, color=color)
        for note in self.notes.values():
            if note["text"] == text:
                return note
        added = self.receive_until(lambda m: m["type"] == "note_added" and m["note"]["text"] == text)
        stored: dict[str, Any] = added["note"]
        return stored

    def close(self) -> None:
        self._exit.close()

    def __enter__(self) -> Bot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def new_room(live_server: ServerProcess) -> Callable[..., Room]:
    def create(title: str = "Vårdenheten Solsidan", language: str = "sv") -> Room:
        response = httpx.post(
            f"{live_server.base_url}/api/rooms", json={"title": title, "language": language}, timeout=10
        )
        assert response.status_code == 201, response.text
        return Room(**response.json(), base_url=live_server.base_url)

    return create


# ---------------------------------------------------------------- what a user sees


def wait_online(page: Page) -> None:
    """The header says the page is connected (and so has the room's current state)."""
    expect(page.locator(".room-header .status")).to_have_text("Ansluten")


def scale(page: Page, number: int, kind: str = "today") -> Locator:
    """The answer to statement `number` (1-based): its group of radio buttons 1-10 and "Vet ej"."""
    return page.locator("li.statement").nth(number - 1).locator("fieldset.scale").nth(0 if kind == "today" else 1)


def radio(page: Page, number: int, value: int | str, kind: str = "today") -> Locator:
    """One answer's radio button (`value` 1-10 or "unknown"), shown or not."""
    return scale(page, number, kind).locator(f'input[value="{value}"]')


def show_statement(page: Page, number: int) -> None:
    """Where the page shows one statement at a time (a phone), go to statement `number` as a
    person would: by its number in the row below it. Elsewhere every statement is shown."""
    if page.locator(".grading.one-at-a-time").count():
        page.locator(".overview .jump").nth(number - 1).click()
        expect(page.locator("li.statement").nth(number - 1)).to_be_visible()


def choose(page: Page, number: int, value: int | str, kind: str = "today") -> None:
    """Answer statement `number` with `value` (1-10, or "Vet ej") by clicking it."""
    show_statement(page, number)
    scale(page, number, kind).get_by_role("radio", name=str(value), exact=True).click()


def notes_in(page: Page, area_id: str, text: str | None = None) -> Locator:
    """The note cards of one area (stored ones, not pending), optionally with `text`."""
    cards = page.locator(f'ol.notes[data-area="{area_id}"] > li.note:not(.pending)')
    if text is not None:
        cards = cards.filter(has=page.locator(".note-text", has_text=text))
    return cards


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


# ---------------------------------------------------------------- every view, ready to look at

START_HEADING = "En gemensam reflektion kring tjänstelogik"
PARTICIPANT_VIEWS = {
    "participant-lobby": "lobby",
    "participant-grade": "grade",
    "participant-reflect": "reflect",
    "participant-document": "document",
}
PRESENTER_VIEWS = {  # view: (its button, the phase it is shown in)
    # Before the reveal: no figures, the console included; it says how many have answered.
    "presenter-hidden": ("Spektrum", "grade"),
    "presenter-spectrum": ("Spektrum", "grade"),
    "presenter-profile": ("Profil", "grade"),
    "presenter-board": ("Tavlan", "document"),
    "presenter-questions": ("Frågorna", "reflect"),
}
VIEWS = ["start", *PARTICIPANT_VIEWS, *PRESENTER_VIEWS, "board", "screen"]
# A participant's views are for a phone; the facilitator's, the board and the screen for a projector.
NATURAL_VIEWPORT = {view: PROJECTOR if view.startswith(("presenter", "board", "screen")) else PHONE for view in VIEWS}

# One row per person, one column per statement: varied enough to show every kind of spread.
# (Statement 8 is spread out, statement 10 splits the group in two camps.)
SCORES = [
    [2, 3, 4, 7, 2, 5, 1, 3, 6, 2],
    [3, 2, 5, 6, 3, 6, 2, 4, 7, 3],
    [3, 4, 4, 8, 4, 4, 2, 2, 5, 2],
    [4, 2, 6, 5, 3, 7, 3, 5, 8, 9],
    [5, 3, 5, 9, 2, 3, 1, 9, 6, 8],
    [3, 1, 3, 6, 5, 8, 2, 3, 4, 2],
    [2, 5, 4, 7, 3, 5, 6, 4, 7, 9],
]
NAMES = ["Anna", None, "Bo", None, "Cecilia", "David", None]
NOTES = [
    (0, "thoughts", "Vi mäter det som är lätt att räkna, inte det som skapar värde", "yellow"),
    (2, "thoughts", "En brukare möter fem enheter för ett och samma ärende", "pink"),
    (1, "insights", "Värdet uppstår hemma hos brukaren, inte hos oss", "green"),
    (4, "insights", "Våra rutiner skyddar oss mer än de hjälper brukaren", "blue"),
    (3, "who", "Undersköterskorna som möter brukarna varje dag", "yellow"),
    (5, "who", "Enhetscheferna", "orange"),
    (0, "now", "Bjud in två brukare till nästa arbetsplatsträff", "yellow"),
    (6, "needed", "Tid för reflektion i schemat", "purple"),
    (2, "needed", "Ett ledarskap som tål att vi misslyckas", "green"),
]


@dataclass
class SeededRoom:
    """A room in mid-workshop: seven people have graded, written notes and voted."""

    room: Room
    participant_token: str  # Anna's: her view shows her own scores and notes
    people: list[Bot]  # still connected, so the room shows them online

    def leave(self) -> None:
        for person in self.people:
            person.close()

    def facilitate(self, type_: str, **fields: Any) -> None:
        """Change the room as its facilitator would, e.g. `facilitate("set_phase", phase="grade")`."""
        with self.room.facilitator() as facilitator:
            facilitator.send(type_, **fields)


def seed_room(room: Room) -> SeededRoom:
    with room.facilitator() as facilitator:
        facilitator.send("set_phase", phase="grade")
    bots = [room.bot(name) for name in NAMES]
    try:
        for bot, row in zip(bots, SCORES, strict=True):
            for number, value in enumerate(row, start=1):
                bot.send("set_score", statement_id=f"s{number}", value=value)
        # Revealed once everyone has graded, as a facilitator does: the reveal releases the
        # whole round at once, while a later answer waits for k-1 others (docs/insight.md).
        with room.facilitator() as facilitator:
            facilitator.send("set_results_visible", visible=True)
        notes = [bots[author].add_note(area, text, color) for author, area, text, color in NOTES]
        for voter in bots[:5]:
            voter.send("vote_note", note_id=notes[2]["id"], voted=True)
        for voter in bots[2:5]:
            voter.send("vote_note", note_id=notes[6]["id"], voted=True)
        assert bots[0].token
        return SeededRoom(room, bots[0].token, bots)
    except BaseException:
        for bot in bots:
            bot.close()
        raise


def open_view(browse: Browse, seeded: SeededRoom, view: str, viewport: ViewportSize | None = None) -> Page:
    """Put the room in the phase `view` needs, open it in a new browser, wait until it shows."""
    viewport = viewport or NATURAL_VIEWPORT[view]
    room = seeded.room
    if view == "start":
        page = browse.page("/", viewport, name=view)
        expect(page.get_by_role("heading", level=1)).to_have_text(START_HEADING)
        return page
    if view in PARTICIPANT_VIEWS:
        phase = PARTICIPANT_VIEWS[view]
        seeded.facilitate("set_phase", phase=phase)
        context = browse.context(viewport, {f"samskapa:participant:{room.room_id}": seeded.participant_token})
        page = browse.page(room.participant_path, context=context, name=view)
        wait_online(page)
        if phase == "lobby":
            expect(page.get_by_text("Välkommen! Processledaren startar snart.")).to_be_visible()
        if phase in {"grade", "reflect"}:
            expect(page.locator("svg.distribution")).to_have_count(10)
            expect(page.locator(".progress")).to_have_text("Du har graderat 10 av 10")
        if phase == "reflect":
            expect(page.locator(".questions li")).to_have_count(4)
        if phase == "document":
            expect(page.locator("li.note:not(.pending)").nth(len(NOTES) - 1)).to_be_visible()
        return page
    if view in PRESENTER_VIEWS:
        button, phase = PRESENTER_VIEWS[view]
        seeded.facilitate("set_phase", phase=phase)
        seeded.facilitate("set_results_visible", visible=view != "presenter-hidden")
        page = browse.page(room.facilitator_url, viewport, name=view)
        wait_online(page)
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.get_by_role("button", name=button, exact=True)).to_have_attribute("aria-pressed", "true")
        if view == "presenter-hidden":
            answered = f"{len(SCORES)} av {len(SCORES)} har svarat"
            expect(page.locator(".results-placeholder")).to_have_text(
                f"Resultaten visas här när du visar dem för alla. {answered}."
            )
            expect(page.locator(".spectrum-card svg.distribution, .spectrum-card .figures")).to_have_count(0)
        if view == "presenter-spectrum":
            expect(page.locator(".spectrum-card .figures").first).to_contain_text(f"{len(SCORES)} svar")
        if view == "presenter-profile":
            expect(page.locator("svg.profile-track circle.profile-dot")).to_have_count(10)
        if view == "presenter-board":
            expect(page.locator("li.note:not(.pending)").nth(len(NOTES) - 1)).to_be_visible()
        if view == "presenter-questions":
            expect(page.locator(".questions li")).to_have_count(4)
        return page
    if view == "screen":
        seeded.facilitate("set_screen", view="overview")
        page = browse.page(f"/r/{room.room_id}/screen", viewport, name=view)
        wait_online(page)
        expect(page.locator(".overview-row svg.distribution")).to_have_count(10)
        return page
    assert view == "board", view
    page = browse.page(room.board_path, viewport, name=view)
    wait_online(page)
    expect(page.locator("li.note").nth(len(NOTES) - 1)).to_be_visible()
    return page


# ---------------------------------------------------------------- the tour: every view, once

SIZES = {"390x844": PHONE, "1920x1080": PROJECTOR}


@dataclass
class Tour:
    """What one walk through every view of a room in mid-workshop found: each page's watch,
    axe's violations per view (at the view's own size), a screenshot per view and size, and
    whether a view fits a phone's width."""

    watches: list[PageWatch]
    violations: dict[str, list[dict[str, Any]]]
    screenshots: dict[str, Path]
    sideways: dict[str, int]  # how far each view scrolls sideways on a phone, in CSS px


def act_on(page: Page, view: str) -> None:
    """What people do on a view, so the tour covers more than looking."""
    if view == "participant-grade":
        choose(page, 3, 9)
        expect(scale(page, 3).locator(".scale-status")).to_have_text("Ditt svar: 9")
    if view == "participant-document":
        page.get_by_label("Ny lapp i ”Insikter och idéer”").fill("Vi behöver fråga brukarna oftare")
        page.locator('section.area[data-area="insights"]').get_by_role("button", name="Lägg till lapp").click()
        expect(notes_in(page, "insights", "Vi behöver fråga brukarna oftare")).to_have_count(1)
    if view == "presenter-spectrum":
        page.get_by_text("Exportera", exact=True).click()
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile("^Rapport")).click()
        assert download.value.suggested_filename.endswith(".html")
        page.get_by_text("Exportera", exact=True).click()


@pytest.fixture(scope="session")
def tour(browser: Browser, live_server: ServerProcess) -> Iterator[Tour]:
    response = httpx.post(
        f"{live_server.base_url}/api/rooms", json={"title": "Hemtjänsten Norr – workshop", "language": "sv"}, timeout=10
    )
    assert response.status_code == 201, response.text
    seeded = seed_room(Room(**response.json(), base_url=live_server.base_url))
    session = Browse(browser, live_server.base_url)
    axe = Axe()
    found = Tour(session.watches, {}, {}, {})
    try:
        for view in VIEWS:
            page = open_view(session, seeded, view)
            found.violations[view] = axe.run(page).response["violations"]
            act_on(page, view)
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                page.evaluate("window.scrollTo(0, 0)")
                found.screenshots[f"{view}-{size}"] = screenshot(page, f"{view}-{size}")
                if viewport == PHONE:
                    found.sideways[view] = page.evaluate(
                        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                    )
            page.context.close()
        yield found
    finally:
        session.close()
        seeded.leave()
