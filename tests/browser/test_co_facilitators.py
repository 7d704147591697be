"""Co-facilitator links in real browsers, driven as people drive them (clicks, taps and typed
keys; nothing set by script): the facilitator makes a link with a name, a second device
opens it and runs the room, the facilitator revokes it, and the second console says so.
Screenshots of the console's section go to artifacts/screenshots/co-facilitators-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, PROJECTOR, Browse, Room, screenshot, wait_online
from tests.browser.test_screen import LOADED, assert_accessible, open_console


def section(page: Page) -> Locator:
    return page.locator("section.co-panel")


def make_link(page: Page, name: str) -> str:
    """Open the section, type a name, press the button: the new link, as the page shows it."""
    page.get_by_text("Medprocessledare", exact=True).click()
    field = page.get_by_label("Vem är länken till? (valfritt)")
    field.click()
    field.press_sequentially(name)
    page.get_by_role("button", name="Skapa länk för medprocessledare").click()
    expect(page.get_by_role("heading", name=f"Ny länk för {name}")).to_be_focused()
    return page.get_by_label("Länken", exact=True).input_value()


def shoot_section(page: Page, name: str) -> None:
    """The section in the page as it is (at the page's size), and the section alone."""
    section(page).evaluate("element => element.scrollIntoView({ block: 'start' })")
    screenshot(page, name)
    section(page).screenshot(path=str(screenshot(page, name).with_name(f"{name}-section.png")), animations="disabled")


def test_a_named_link_runs_the_room_on_a_second_device_until_it_is_revoked(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    room = new_room("Två processledare")
    first = open_console(browse, room, name="facilitator")
    expect(section(first).locator(".consoles")).to_have_text("Bara din konsol är öppen.")
    link = make_link(first, "Anna")
    assert re.fullmatch(rf"{re.escape(browse.base_url)}/r/{room.room_id}/present#token=[\w-]{{40,}}", link)
    assert room.facilitator_token not in link, "a link of its own, not the facilitator's key"
    panel = section(first)
    expect(panel).to_contain_text("men inte ta bort rummet")
    first.get_by_role("button", name="Visa QR-kod").click()
    qr = panel.get_by_role("img", name="QR-kod med länken för medprocessledare")
    expect(qr).to_be_visible()
    assert qr.evaluate(LOADED), "the QR code did not load"
    entry = panel.locator("li.co-entry")
    expect(entry).to_have_count(1)
    expect(entry.locator(".co-name")).to_have_text("Anna")
    expect(entry.locator(".co-meta")).to_contain_text("inte använd än")
    expect(panel.get_by_role("heading", name="1 länk gäller")).to_be_visible()

    # The co-facilitator's phone, a browser of its own: the link opens a console there.
    phone = browse.page(link, PHONE, context=browse.context(PHONE, touch=True), name="co-facilitator")
    wait_online(phone)
    assert "token" not in phone.url
    expect(section(phone)).to_contain_text("Du styr rummet med en länk för medprocessledare")
    # Not for a co-facilitator's key: deleting the room, and the links.
    expect(phone.get_by_role("button", name="Ta bort rummet")).to_have_count(0)
    expect(phone.get_by_text("Medprocessledare", exact=True)).to_have_count(0)
    for page in (first, phone):
        expect(section(page).locator(".consoles")).to_have_text("2 konsoler är öppna: din och 1 till")
    shoot_section(phone, "co-facilitators-phone-console-390x844")
    # It runs the room: the phase it taps is the room's, on the facilitator's console too.
    phone.get_by_role("button", name="Gradera", exact=True).tap()
    expect(first.get_by_role("button", name="Gradera", exact=True)).to_have_attribute("aria-pressed", "true")
    phone.get_by_role("button", name="Översikten på skärmen").tap()
    expect(first.locator(".screen-caption")).to_have_text("Skärmen visar alla påståenden")
    # And exports it.
    phone.get_by_text("Exportera", exact=True).tap()
    with phone.expect_download() as download:
        phone.get_by_role("button", name=re.compile("^Rapport")).tap()
    assert download.value.suggested_filename.endswith(".html")
    # The facilitator's list has seen it used.
    expect(entry.locator(".co-meta")).to_contain_text("har använts")
    # The phone keeps the key: it opens the console again without the link, and lists the room.
    phone.goto(browse.base_url + "/")
    expect(phone.locator("section.my-rooms .my-room-title")).to_have_text(["Två processledare"])
    phone.goto(f"{browse.base_url}/r/{room.room_id}/present")
    wait_online(phone)
    expect(phone.get_by_role("button", name="Gradera", exact=True)).to_have_attribute("aria-pressed", "true")
    shoot_section(first, "co-facilitators-sv-1920x1080")
    assert_accessible(first)

    # The facilitator revokes it, with a confirmation; the focus stays in the list.
    panel.get_by_role("button", name="Återkalla länken för Anna").click()
    dialog = first.locator("dialog[open]")
    expect(dialog).to_contain_text("Den som har länken förlorar konsolen direkt")
    dialog.get_by_role("button", name="Ja, återkalla").click()
    expect(panel.get_by_role("status").filter(has_text="återkallad")).to_have_text("Länken för Anna är återkallad.")
    expect(panel.get_by_role("heading", name="Inga länkar för medprocessledare än")).to_be_focused()
    expect(panel.locator("li.co-entry")).to_have_count(0)
    expect(panel.get_by_role("heading", name="Ny länk för Anna")).to_have_count(0)
    # The second console says so, in Swedish, at once, and has forgotten the key.
    expect(phone.get_by_text("Processledaren har återkallat länken som du öppnade konsolen med.")).to_be_visible()
    expect(phone.get_by_role("link", name="Gå med som deltagare i stället")).to_be_visible()
    screenshot(phone, "co-facilitators-revoked-390x844")
    assert_accessible(phone)
    phone.goto(f"{browse.base_url}/r/{room.room_id}/present")
    expect(phone.get_by_text("Den här sidan behöver processledarlänken med sin nyckel.")).to_be_visible()
    # Opening the revoked link again gets nowhere either.
    again = browse.page(link, PHONE, name="revoked-link")
    expect(again.get_by_text("Nyckeln i den här processledarlänken gäller inte för rummet")).to_be_visible()
    expect(first.locator(".console-offline")).to_be_hidden()


def test_the_section_by_keyboard_in_english_and_on_a_phone(browse: Browse, new_room: Callable[..., Room]) -> None:
    """Made, shown and revoked with keys alone; screenshots in Swedish and English at both sizes."""
    room = new_room("Tangentbordet")
    page = open_console(browse, room, name="keyboard")
    make_link(page, "Cecilia Lindqvist-Bergström")
    # A second link by keyboard alone: type, Enter.
    field = page.get_by_label("Vem är länken till? (valfritt)")
    field.click()
    field.press_sequentially("Bo")
    field.press("Enter")
    expect(page.get_by_role("heading", name="Ny länk för Bo")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Länken", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Visa QR-kod")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Dölj QR-koden")).to_be_focused()
    expect(page.get_by_role("img", name="QR-kod med länken för medprocessledare")).to_be_visible()
    panel = section(page)
    expect(panel.get_by_role("heading", name="2 länkar gäller")).to_be_visible()
    page.set_viewport_size(PHONE)
    shoot_section(page, "co-facilitators-sv-390x844")

    page.get_by_label("Språk", exact=True).select_option("en")
    expect(page.locator(".room-header .status")).to_have_text("Connected")
    # Mounted anew in English: the link made last is still there, the list asked again.
    expect(page.get_by_role("heading", name="New link for Bo")).to_be_visible()
    expect(panel.get_by_role("heading", name="2 links are valid")).to_be_visible()
    expect(panel.locator(".co-meta").first).to_contain_text("not used yet")
    page.get_by_role("button", name="Show a QR code").click()
    shoot_section(page, "co-facilitators-en-390x844")
    page.set_viewport_size(PROJECTOR)
    shoot_section(page, "co-facilitators-en-1920x1080")
    assert_accessible(page)

    # Revoked by keyboard: the button, Enter, then the dialog's confirmation.
    revoke = panel.get_by_role("button", name="Revoke the link for Cecilia Lindqvist-Bergström")
    revoke.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_role("heading", name="Revoke the link for Cecilia Lindqvist-Bergström?")).to_be_visible()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Yes, revoke")).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("status").filter(has_text="revoked")).to_have_text(
        "The link for Cecilia Lindqvist-Bergström is revoked."
    )
    expect(panel.get_by_role("heading", name="1 link is valid")).to_be_focused()
    expect(panel.locator(".co-name")).to_have_text(["Bo"])
    # Escape leaves the dialog without revoking.
    panel.get_by_role("button", name="Revoke the link for Bo").focus()
    page.keyboard.press("Enter")
    expect(page.locator("dialog[open]")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(panel.locator(".co-name")).to_have_text(["Bo"])
