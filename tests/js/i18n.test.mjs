// Translation lookup (frontend/js/i18n.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFAULT_LANGUAGE, LANGUAGES, chooseLanguage, createTranslator, fill, pickText } from "../../frontend/js/i18n.js";

test("fill replaces known placeholders and leaves unknown ones visible", () => {
  assert.equal(fill("Du har graderat {n} av {total}", { n: 3, total: 10 }), "Du har graderat 3 av 10");
  assert.equal(fill("{n} svar, {n} igen", { n: 0 }), "0 svar, 0 igen");
  assert.equal(fill("Medel {mean}", {}), "Medel {mean}");
  assert.equal(fill("Inga platshållare"), "Inga platshållare");
  // Parameter values are inserted as they are, never interpreted again.
  assert.equal(fill("{a}{b}", { a: "{b}", b: "$&" }), "{b}$&");
  // Only own properties count, not what every object inherits.
  assert.equal(fill("{toString}", {}), "{toString}");
});

test("a translator falls back to Swedish, then to the key itself", () => {
  const sv = { "note.add": "Lägg till lapp", "only.sv": "Bara svenska", "p.progress": "Du har graderat {n} av {total}" };
  const en = { "note.add": "Add note", "p.progress": "You have graded {n} of {total}" };
  const t = createTranslator(en, sv);
  assert.equal(t("note.add"), "Add note");
  assert.equal(t("only.sv"), "Bara svenska");
  assert.equal(t("no.such.key"), "no.such.key");
  assert.equal(t("p.progress", { n: 2, total: 10 }), "You have graded 2 of 10");
  assert.equal(createTranslator(sv)("note.add"), "Lägg till lapp");
  // An empty translation is still a translation (not a gap to fill from Swedish).
  assert.equal(createTranslator({ "note.add": "" }, sv)("note.add"), "");
});

test("chooseLanguage: a stored choice, else the first supported preference, else Swedish", () => {
  assert.deepEqual(LANGUAGES, ["sv", "en", "fi"]);
  assert.equal(DEFAULT_LANGUAGE, "sv");
  assert.equal(chooseLanguage("fi", ["en-GB"]), "fi");
  assert.equal(chooseLanguage(null, ["de-DE", "en-US", "fi"]), "en");
  assert.equal(chooseLanguage("de", ["FI-fi"]), "fi");
  assert.equal(chooseLanguage(undefined), "sv");
  assert.equal(chooseLanguage("xx", ["de", "nb-NO"]), "sv");
});

test("pickText: the wanted language, else the template's languages in order, else any", () => {
  const text = { sv: "Vi erbjuder en produkt", en: "We offer a product", fi: "Tarjoamme tuotteen" };
  assert.equal(pickText(text, "en"), "We offer a product");
  assert.equal(pickText(text, "fi"), "Tarjoamme tuotteen");
  assert.equal(pickText({ sv: "Bara svenska" }, "fi"), "Bara svenska");
  assert.equal(pickText({ sv: "Svenska", en: "English" }, "fi", ["en", "sv"]), "English");
  assert.equal(pickText({ sv: "", en: "English" }, "sv"), "English", "an empty text counts as missing");
  assert.equal(pickText({ de: "Deutsch" }, "sv"), "Deutsch");
  assert.equal(pickText({}, "sv"), "");
  assert.equal(pickText(null, "sv"), "");
  assert.equal(pickText(undefined, "en"), "");
});

test("a count picks the language's plural form; the plain key is the general one", () => {
  const sv = { "note.votes": "{n} röster", "note.votes.one": "{n} röst", "round.label": "Omgång {n}" };
  const t = createTranslator(sv, {}, "sv");
  assert.equal(t("note.votes", { n: 1 }), "1 röst");
  assert.equal(t("note.votes", { n: 0 }), "0 röster");
  assert.equal(t("note.votes", { n: 2 }), "2 röster");
  assert.equal(t("note.votes", { n: 21 }), "21 röster", "Swedish has no special form for 21");
  assert.equal(t("note.votes", { n: 1.5 }), "1.5 röster");
  assert.equal(t("round.label", { n: 1 }), "Omgång 1", "no plural forms: the plain key");
  assert.equal(t("note.votes", { n: "1" }), "1 röster", "only a number is a count");
  assert.equal(t("note.votes"), "{n} röster");
  // The fallback's forms follow the same rule.
  assert.equal(createTranslator({}, sv, "en")("note.votes", { n: 1 }), "1 röst");
});

test("the categories are the language's own, so a language with more forms gets them", () => {
  // Polish (not a Samskapa language) tells "few" (2-4, 22-24, …) from "many" (5-21, …).
  const pl = { votes: "{n} głosów", "votes.one": "{n} głos", "votes.few": "{n} głosy" };
  const t = createTranslator(pl, {}, "pl");
  assert.deepEqual([1, 2, 5, 22, 25].map((n) => t("votes", { n })), ["1 głos", "2 głosy", "5 głosów", "22 głosy", "25 głosów"]);
});
