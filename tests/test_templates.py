"""The workshop's content: the default template carries seed 001, and custom templates are checked.

The expected Swedish strings are written out literally below: they are the workshop's data
("Reflektionsmaterial kring tjänstelogik", Experio Lab / Region Värmland). When the seed file
is present the statements and questions are also read from it and compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.templates import DEFAULT_TEMPLATE_ID, LANGUAGES, Template, builtin_templates

SEED_001 = Path(__file__).resolve().parents[1] / ".." / "shared" / "seeds" / "001_d5e5d99017abfe0c.txt"

STATEMENTS_SV: list[tuple[str, str]] = [
    ("Vi erbjuder en produkt", "Vi erbjuder en tjänst"),
    ("Vi ser användaren som objekt", "Vi ser användaren som en resurs"),
    ("Vi har fokus på produktion", "Vi har värdeskapande i fokus"),
    ("Vi gör saker rätt", "Vi gör rätt saker"),
    ("Vi har en linjär logik i vår verksamhet", "Vi har en cirkulär logik i vår verksamhet"),
    ("Vi har stort expertfokus", "Vi arbetar multidisciplinärt och erfarenhetsbaserat"),
    (
        "Vi utvecklar vår verksamhet inom enheter (silos)",
        "Vi utvecklar verksamheten som sammanhållet system",
    ),
    ("Vi vill inte misslyckas", "Vi är öppna för att misslyckas"),
    ("Vi vill helst reducera variation", "Vi hanterar den variation som finns"),
    (
        "Våra rutiner beslutas högt i hierarkin",
        "Vi ger professionellt handlingsutrymme att göra olika och möta olika behov",
    ),
]

QUESTIONS_SV: list[str] = [
    "Vilka resursstrukturer finns i vår verksamhet? För vem skapar de värde? "
    "Vilka interaktioner har vi med individer som skapar värde för dem?",
    "Har vi standardiserade erbjudanden eller varierade erbjudanden hos oss? "
    "Finns det behov som vi inte tillgodoser idag?",
    "Vilket handlingsutrymme har våra medarbetare att kunna påverka att värde skapas för individen? "
    "Vem kan förändra det om det skulle behövas?",
    "På vilka sätt stödjer eller hindrar vår organisering vår förmåga att kunna nå värdeskapande "
    "utifrån en individs helhetsperspektiv?",
]

FREE_AREAS_SV = ["Tankar och resonemang som lyfts", "Insikter och idéer"]

# (title, prompt, hint or None)
COLUMNS_SV: list[tuple[str, str, str | None]] = [
    (
        "Vi kan påverka detta hos oss (roller/personer)",
        "Vem kan göra?",
        "(Exempelvis yrkesroller, personer, vem kan påverka vad?...)",
    ),
    ("Aktiviteter vi vill få igång", "Vad gör vi nu?", None),
    (
        "Det som behöver finnas på plats hos oss",
        "Vad behövs?",
        "(Exempelvis kompetens, rutiner, förhållningssätt, ledarskap, strategiska inriktningar...)",
    ),
]


@pytest.fixture
def default() -> Template:
    return builtin_templates()[DEFAULT_TEMPLATE_ID]


def seed_text() -> str:
    if not SEED_001.is_file():
        pytest.skip(f"seed 001 not found at {SEED_001} (the shared seeds sit beside the repo)")
    return SEED_001.read_text(encoding="utf-8")


# ------------------------------------------------------------------ the default template


def test_the_default_template_is_built_in_and_offers_all_three_languages(default: Template) -> None:
    assert DEFAULT_TEMPLATE_ID == "tjanstelogik"
    assert default.id == "tjanstelogik"
    assert default.languages == ["sv", "en", "fi"]
    assert default.name["sv"] == "Reflektionsmaterial kring tjänstelogik"


def test_the_default_template_has_the_ten_statement_pairs_verbatim_and_in_order(default: Template) -> None:
    pairs = [(statement.left["sv"], statement.right["sv"]) for statement in default.statements]
    assert pairs == STATEMENTS_SV


def test_statement_pairs_match_the_seed_file(default: Template) -> None:
    lines = [line for line in seed_text().splitlines() if "\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t" in line]
    from_seed = [(line.split("\t")[0].strip(), line.split("\t")[-1].strip()) for line in lines]
    assert len(from_seed) == 10
    assert from_seed == STATEMENTS_SV
    assert [(s.left["sv"], s.right["sv"]) for s in default.statements] == from_seed


def test_reflection_questions_match_the_seed_file(default: Template) -> None:
    section = seed_text().split("## Reflektera kring tjänstelogik", 1)[1].split("# Dokumentera", 1)[0]
    from_seed = [line.removeprefix("- ").strip() for line in section.splitlines() if line.startswith("- ")]
    assert from_seed == QUESTIONS_SV
    assert [question.text["sv"] for question in default.questions] == from_seed


def test_the_grading_scale_runs_from_production_logic_to_service_logic(default: Template) -> None:
    assert default.grading.title["sv"] == "Hur tjänstelogisk är vår verksamhet?"
    assert default.grading.instruction is not None
    assert default.grading.instruction["sv"] == "(gradera på skalan hur påstående passar in)"
    assert default.grading.left_label["sv"] == "Produktionslogisk styrning och utveckling"
    assert default.grading.right_label["sv"] == "Tjänstelogisk styrning och utveckling"


def test_the_default_template_has_the_four_reflection_questions_verbatim(default: Template) -> None:
    assert [question.text["sv"] for question in default.questions] == QUESTIONS_SV
    assert default.reflection_title is not None
    assert default.reflection_title["sv"] == "Reflektera kring tjänstelogik"


def test_the_documentation_areas_are_two_free_areas_then_three_columns(default: Template) -> None:
    assert [area.kind for area in default.areas] == ["area", "area", "column", "column", "column"]
    assert [area.title["sv"] for area in default.areas[:2]] == FREE_AREAS_SV
    assert all(area.prompt is None and area.hint is None for area in default.areas[:2])
    columns = [
        (
            area.title["sv"],
            area.prompt["sv"] if area.prompt else None,
            area.hint["sv"] if area.hint else None,
        )
        for area in default.areas[2:]
    ]
    assert columns == COLUMNS_SV


def test_the_column_hints_are_the_seeds_examples(default: Template) -> None:
    seed = seed_text()
    for _, _, hint in COLUMNS_SV:
        if hint is not None:
            assert hint in seed


def localized_texts(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every LocalizedText in a dumped template: a dict whose keys are all language codes."""
    if isinstance(value, dict):
        if value and set(value) <= set(LANGUAGES):
            yield path, value
            return
        for name, item in value.items():
            yield from localized_texts(item, (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from localized_texts(item, (*path, index))


def test_every_text_of_the_default_template_exists_in_swedish_english_and_finnish(
    default: Template,
) -> None:
    texts = dict(localized_texts(default.model_dump()))
    # name, credit, 4 grading texts, 20 poles, reflection title, 4 questions,
    # 5 area titles, 3 prompts, 2 hints, 3 suggested groups
    assert len(texts) == 1 + 1 + 4 + 20 + 1 + 4 + 5 + 3 + 2 + 3
    for path, text in texts.items():
        assert set(text) == {"sv", "en", "fi"}, path
        assert all(translation.strip() for translation in text.values()), path


def test_the_translations_are_not_copies_of_the_swedish(default: Template) -> None:
    for path, text in localized_texts(default.model_dump()):
        assert text["en"] != text["sv"], path
        assert text["fi"] != text["sv"], path


def test_the_source_is_credited_in_every_language(default: Template) -> None:
    assert default.credit is not None
    for language in LANGUAGES:
        credit = default.credit[language]
        assert "Experio Lab" in credit, language
        assert "Region Värmland" in credit, language
        assert "Johan Qvist" in credit, language


def test_every_built_in_template_survives_an_export_and_reimport() -> None:
    for template in builtin_templates().values():
        assert Template.model_validate_json(template.model_dump_json()) == template


# ------------------------------------------------------------------ custom templates


def minimal_template() -> dict[str, Any]:
    return {
        "id": "egen-mall",
        "name": {"sv": "Egen mall", "en": "Own template"},
        "languages": ["sv", "en"],
        "grading": {
            "title": {"sv": "Hur gör vi?", "en": "How do we do?"},
            "left_label": {"sv": "Vänster", "en": "Left"},
            "right_label": {"sv": "Höger", "en": "Right"},
        },
        "statements": [
            {"id": "s1", "left": {"sv": "Ett", "en": "One"}, "right": {"sv": "Tio", "en": "Ten"}},
            {"id": "s2", "left": {"sv": "Lite", "en": "Little"}, "right": {"sv": "Mycket", "en": "Much"}},
        ],
        "areas": [{"id": "notes", "title": {"sv": "Anteckningar", "en": "Notes"}}],
    }


def test_a_minimal_custom_template_is_accepted() -> None:
    template = Template.model_validate(minimal_template())
    assert template.statement_ids() == ["s1", "s2"]
    assert template.area_ids() == ["notes"]
    assert template.questions == []


def many_statements(count: int) -> list[dict[str, Any]]:
    return [{"id": f"s{i}", "left": {"sv": f"Vänster {i}"}, "right": {"sv": f"Höger {i}"}} for i in range(count)]


Change = Callable[[dict[str, Any]], None]


def _drop(path: tuple[str | int, ...]) -> Change:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


def _set(path: tuple[str | int, ...], value: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


BROKEN: list[tuple[str, Change, tuple[str | int, ...], str]] = [
    ("statement-without-right", _drop(("statements", 0, "right")), ("statements", 0, "right"), "missing"),
    ("second-statement-without-left", _drop(("statements", 1, "left")), ("statements", 1, "left"), "missing"),
    (
        "duplicate-statement-ids",
        _set(("statements", 1, "id"), "s1"),
        ("statements",),
        "value_error",
    ),
    ("zero-statements", _set(("statements",), []), ("statements",), "too_short"),
    ("thirty-one-statements", _set(("statements",), many_statements(31)), ("statements",), "too_long"),
    ("unknown-language", _set(("languages",), ["sv", "de"]), ("languages", 1), "literal_error"),
    ("repeated-language", _set(("languages",), ["sv", "sv"]), ("languages",), "value_error"),
    ("no-languages", _set(("languages",), []), ("languages",), "too_short"),
    (
        "text-in-unknown-language",
        _set(("name",), {"sv": "Mall", "de": "Vorlage"}),
        ("name", "de", "[key]"),
        "literal_error",
    ),
    ("empty-localized-text", _set(("areas", 0, "title"), {}), ("areas", 0, "title"), "too_short"),
    (
        "blank-text",
        _set(("statements", 0, "left", "sv"), "   "),
        ("statements", 0, "left", "sv"),
        "string_too_short",
    ),
    (
        "bad-statement-id",
        _set(("statements", 0, "id"), "Påstående 1"),
        ("statements", 0, "id"),
        "string_pattern_mismatch",
    ),
    ("zero-areas", _set(("areas",), []), ("areas",), "too_short"),
    (
        "duplicate-area-ids",
        _set(("areas",), [{"id": "a", "title": {"sv": "A"}}, {"id": "a", "title": {"sv": "B"}}]),
        ("areas",),
        "value_error",
    ),
    ("unknown-area-kind", _set(("areas", 0, "kind"), "board"), ("areas", 0, "kind"), "literal_error"),
    ("extra-top-level-field", _set(("colour",), "blue"), ("colour",), "extra_forbidden"),
    (
        "extra-statement-field",
        _set(("statements", 0, "weight"), 2),
        ("statements", 0, "weight"),
        "extra_forbidden",
    ),
    ("extra-grading-field", _set(("grading", "scale"), 7), ("grading", "scale"), "extra_forbidden"),
    ("future-schema-version", _set(("schema_version",), 2), ("schema_version",), "literal_error"),
]


@pytest.mark.parametrize(("change", "loc", "error_type"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_custom_template_names_the_bad_field(
    change: Change, loc: tuple[str | int, ...], error_type: str
) -> None:
    data = minimal_template()
    change(data)
    with pytest.raises(ValidationError) as caught:
        Template.model_validate(data)
    problems = {(error["loc"], error["type"]) for error in caught.value.errors()}
    assert (loc, error_type) in problems, problems


def test_duplicate_statement_ids_are_rejected_with_the_id_in_the_message() -> None:
    data = minimal_template()
    data["statements"][1]["id"] = "s1"
    with pytest.raises(ValidationError, match="duplicate id 's1'"):
        Template.model_validate(data)


def test_a_text_missing_the_templates_first_language_is_rejected() -> None:
    # model.py: "at least the template's first language must be present" in every text;
    # otherwise a Swedish room shows an empty right pole.
    data = minimal_template()
    data["statements"][0]["right"] = {"en": "Ten"}
    with pytest.raises(ValidationError) as caught:
        Template.model_validate(data)
    report = str(caught.value)
    assert "statements" in report
    assert "right" in report
    assert "'sv'" in report
