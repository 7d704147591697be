"""The report speaks with the app's words and the language's plural rule: "1 röst", "3 röster"."""

from __future__ import annotations

import pytest

from app.locales import messages, translator


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [("sv", "1 röst", "3 röster"), ("en", "1 vote", "3 votes"), ("fi", "1 ääni", "3 ääntä")],
)
def test_a_count_takes_its_languages_plural_form(language: str, one: str, many: str) -> None:
    t = translator(language)  # type: ignore[arg-type]
    assert (t("report.votes", n=1), t("report.votes", n=3), t("report.votes", n=0)) == (
        one,
        many,
        many.replace("3", "0"),
    )


@pytest.mark.parametrize("language", ["sv", "en", "fi"])
def test_every_singular_form_has_its_general_form(language: str) -> None:
    table = messages(language)
    for key in table:
        if key.endswith(".one"):
            assert key.removesuffix(".one") in table, key
