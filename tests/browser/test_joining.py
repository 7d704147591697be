"""Joining on a phone: the optional name and, when the room has groups, the group, asked
together and at once; changeable later, the group only until you have answered (moving your
answers to another group would change figures by exactly yours, docs/insight.md). What was
saved is read from the server (a scripted facilitator's websocket), not from the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, Bot, Browse, Room, choose, screenshot, wait_online

GROUPS = [
    {"id": "chefer", "name": "Chefer"},
    {"id": "staff", "name": "Medarbetare"},
    {"id": "brukare", "name": "Brukare"},
]


def assert_accessible(page: Page) -> None:
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['impact']}: {v['id']} {v['help']}" for v in violations if v["impact"] in {"serious", "critical"}]
    assert not blocking, blocking


def saved_profile(facilitator: Bot, name: str | None, group: str | None) -> dict[str, Any]:
    """The participant as the server stored it, from the event the facilitator gets."""
    event = facilitator.receive_until(
        lambda m: (
            m["type"] == "participant_updated"
            and m["participant"]["name"] == name
            and m["participant"]["group"] == group
        )
    )
    participant: dict[str, Any] = event["participant"]
    return participant


def test_name_and_group_are_asked_at_joining_and_can_be_changed(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Grupprummet")
    with room.facilitator() as facilitator:
        facilitator.send("set_groups", groups=GROUPS)
        page = browse.page(room.participant_path, context=browse.context(PHONE, touch=True))
        wait_online(page)
        profile = page.locator("details.profile")
        expect(profile).to_have_attribute("open", "")
        expect(profile.locator("summary")).to_have_text("Du: anonym, ingen grupp")
        group = page.get_by_role("group", name="Din grupp (frivilligt)")
        for name in ("Chefer", "Medarbetare", "Brukare", "Ingen vald"):
            expect(group.get_by_role("radio", name=name)).to_be_visible()
        assert_accessible(page)

        page.get_by_label("Ditt namn (frivilligt)").fill("Anna")
        group.get_by_role("radio", name="Medarbetare").tap()
        page.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, "Anna", "staff")
        expect(profile.locator("summary")).to_have_text("Du: Anna · Medarbetare")
        expect(profile).not_to_have_attribute("open", "")
        expect(profile.locator("summary")).to_be_focused()

        # Asked once: not again when grading starts, nor after a reload.
        facilitator.send("set_phase", phase="grade")
        expect(page.locator("li.statement").first).to_be_visible()
        expect(profile).not_to_have_attribute("open", "")
        page.reload()
        wait_online(page)
        expect(page.locator("li.statement").first).to_be_visible()
        expect(profile).not_to_have_attribute("open", "")
        expect(profile.locator("summary")).to_have_text("Du: Anna · Medarbetare")

        # Changeable: open the line, choose another group.
        profile.locator("summary").tap()
        expect(group.get_by_role("radio", name="Medarbetare")).to_be_checked()
        group.get_by_role("radio", name="Chefer").tap()
        page.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, "Anna", "chefer")
        expect(profile.locator("summary")).to_have_text("Du: Anna · Chefer")
        assert_accessible(page)

        # Someone joining in the middle of grading is asked too, above the statements.
        late = browse.page(room.participant_path, context=browse.context(PHONE, touch=True))
        wait_online(late)
        expect(late.locator("details.profile")).to_have_attribute("open", "")
        expect(late.get_by_role("radio", name="Brukare")).to_be_visible()
        late.get_by_role("radio", name="Brukare").tap()
        late.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, None, "brukare")
        expect(late.locator("details.profile summary")).to_have_text("Du: Brukare")


def test_groups_added_after_joining_are_asked_for(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Grupper senare")
    with room.facilitator() as facilitator:
        page = browse.page(room.participant_path, context=browse.context(PHONE, touch=True))
        wait_online(page)
        expect(page.get_by_role("group", name="Din grupp (frivilligt)")).to_have_count(0)
        page.get_by_label("Ditt namn (frivilligt)").fill("Bo")
        page.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, "Bo", None)
        expect(page.locator("details.profile")).not_to_have_attribute("open", "")
        facilitator.send("set_groups", groups=GROUPS)
        expect(page.locator("details.profile")).to_have_attribute("open", "")
        page.get_by_role("radio", name="Brukare").tap()
        page.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, "Bo", "brukare")
        expect(page.locator("details.profile summary")).to_have_text("Du: Bo · Brukare")


def test_the_group_is_fixed_once_you_have_answered(browse: Browse, new_room: Callable[..., Room]) -> None:
    room = new_room("Fast grupp")
    with room.facilitator() as facilitator:
        facilitator.send("set_groups", groups=GROUPS)
        facilitator.send("set_phase", phase="grade")
        page = browse.page(room.participant_path, context=browse.context(PHONE, touch=True))
        wait_online(page)
        profile = page.locator("details.profile")
        group = page.get_by_role("group", name="Din grupp (frivilligt)")
        fixed = profile.get_by_text("Gruppen går inte att byta när du har svarat.")
        group.get_by_role("radio", name="Medarbetare").tap()
        page.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, None, "staff")
        # Before any answer the group can still change, and nothing says otherwise.
        profile.locator("summary").tap()
        expect(group.get_by_role("radio", name="Chefer")).to_be_enabled()
        expect(fixed).to_be_hidden()
        profile.locator("summary").tap()

        choose(page, 1, 6)
        expect(page.locator("li.statement").first.locator(".scale-status")).to_have_text("Ditt svar: 6")
        profile.locator("summary").tap()
        expect(fixed).to_be_visible()
        for name in ("Chefer", "Medarbetare", "Brukare", "Ingen vald"):
            expect(group.get_by_role("radio", name=name)).to_be_disabled()
        expect(group.get_by_role("radio", name="Medarbetare")).to_be_checked()
        # Said to a screen reader with the choice itself, not only shown beside it.
        expect(group).to_have_accessible_description("Gruppen går inte att byta när du har svarat.")
        assert_accessible(page)
        screenshot(page, "participant-group-fixed-sv-390x844")

        # The name stays yours to change; the group goes with it unchanged.
        page.get_by_label("Ditt namn (frivilligt)").fill("Anna")
        page.get_by_role("button", name="Spara").tap()
        saved_profile(facilitator, "Anna", "staff")
        expect(profile.locator("summary")).to_have_text("Du: Anna · Medarbetare")

        page.get_by_label("Språk", exact=True).select_option("fi")
        # The Finnish texts arrive over the network and the page is drawn again: tap the new one.
        expect(profile.locator("summary")).to_have_text("Sinä: Anna · Medarbetare")
        profile.locator("summary").tap()
        finnish = page.get_by_role("group", name="Ryhmäsi (vapaaehtoinen)")
        expect(finnish).to_have_accessible_description("Ryhmää ei voi vaihtaa, kun olet vastannut.")
        expect(finnish.get_by_role("radio", name="Chefer")).to_be_disabled()
        expect(profile.get_by_text("Ryhmää ei voi vaihtaa, kun olet vastannut.")).to_be_visible()
        assert_accessible(page)
        screenshot(page, "participant-group-fixed-fi-390x844")


# Every "invalid" event the page's forms fire: the browser's own check of a field, which
# shows its own bubble in the browser's language (English here, whatever the page speaks).
RECORD_INVALID = "window.invalidFields = []; addEventListener('invalid', (e) => invalidFields.push(e.target.id), true)"


def retype(field: Locator, text: str) -> None:
    """Tap the field, select what is in it, and type over it."""
    field.tap()
    field.page.keyboard.press("Control+A")
    field.page.keyboard.press("Backspace")
    field.page.keyboard.type(text)


def test_the_start_pages_forms_say_whats_wrong_in_the_pages_language_only(
    browse: Browse, new_room: Callable[..., Room]
) -> None:
    """Issue 24: a mistyped join code showed the browser's English "Please match the
    requested format." beside the page's Swedish error. The forms check themselves, and say
    it in the page's language, next to the field, which is marked invalid."""
    room = new_room("Kodrummet")
    page = browse.page("/", context=browse.context(PHONE, touch=True))
    page.evaluate(RECORD_INVALID)
    code = page.get_by_label("Rummets kod, sex siffror")
    join = page.get_by_role("button", name="Gå med", exact=True)
    code.tap()
    page.keyboard.type("12")
    join.tap()
    expect(page.get_by_text("Koden är sex siffror.")).to_be_visible()
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_accessible_description("Koden är sex siffror.")
    expect(code).to_be_focused()
    screenshot(page, "start-join-invalid-sv-390x844")
    assert_accessible(page)
    # Typing again clears the error; an unknown code of six digits is the server's answer.
    page.keyboard.type("3 999")
    expect(page.get_by_text("Koden är sex siffror.")).to_have_count(0)
    expect(code).not_to_have_attribute("aria-invalid", "true")
    retype(code, "000000" if room.join_code != "000000" else "000001")
    join.tap()
    expect(page.get_by_text("Inget rum har den koden. Kontrollera siffrorna.")).to_be_visible()
    # A room's name is asked for the same way.
    page.get_by_role("button", name="Skapa rummet").tap()
    expect(page.get_by_text("Skriv ett namn på rummet.")).to_be_visible()
    expect(page.get_by_label("Rummets namn")).to_be_focused()
    expect(page.get_by_label("Rummets namn")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Språk", exact=True).select_option("en")
    page.evaluate(RECORD_INVALID.replace("window.invalidFields = []; ", ""))
    page.get_by_label("The room's code, six digits").tap()
    page.keyboard.type("12")
    page.get_by_role("button", name="Join", exact=True).tap()
    expect(page.get_by_text("The code is six digits.")).to_be_visible()
    screenshot(page, "start-join-invalid-en-390x844")
    page.get_by_role("button", name="Create the room").tap()
    expect(page.get_by_text("Write a name for the room.")).to_be_visible()
    assert page.evaluate("invalidFields") == [], "the browser checked a field itself and said so in its own words"
    assert_accessible(page)

    # The right code, typed as people read it off the screen, joins.
    retype(page.get_by_label("The room's code, six digits"), f"{room.join_code[:3]} {room.join_code[3:]}")
    page.get_by_role("button", name="Join", exact=True).tap()
    page.wait_for_url(f"**{room.participant_path}")
