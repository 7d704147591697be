// The locale files agree with each other and with the code that uses them.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

import { createTranslator } from "../../frontend/js/i18n.js";

const root = new URL("../../frontend/", import.meta.url);
const load = (language) => JSON.parse(readFileSync(new URL(`locales/${language}.json`, root), "utf8"));
const locales = { sv: load("sv"), en: load("en"), fi: load("fi") };
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

const sources = Object.fromEntries(
  readdirSync(new URL("js/", root))
    .filter((name) => name.endsWith(".js"))
    .map((name) => [name, readFileSync(new URL(`js/${name}`, root), "utf8")]),
);

test("English and Finnish have exactly Swedish's keys", () => {
  const sv = new Set(Object.keys(locales.sv));
  for (const language of ["en", "fi"]) {
    const other = new Set(Object.keys(locales[language]));
    assert.deepEqual([...sv].filter((key) => !other.has(key)), [], `missing in ${language}.json`);
    assert.deepEqual([...other].filter((key) => !sv.has(key)), [], `in ${language}.json but not in sv.json`);
  }
});

test("every translation is a non-empty text with the same placeholders as the Swedish", () => {
  for (const [language, messages] of Object.entries(locales)) {
    for (const [key, text] of Object.entries(messages)) {
      assert.equal(typeof text, "string", `${language}: ${key}`);
      assert.ok(text.trim().length > 0, `${language}: ${key} is empty`);
      if (language !== "sv" && key in locales.sv) {
        assert.deepEqual(placeholders(text), placeholders(locales.sv[key]), `${language}: ${key}`);
      }
    }
  }
});

test("every key the code looks up with t(\"…\") exists in sv.json", () => {
  const missing = [];
  let found = 0;
  for (const [name, source] of Object.entries(sources)) {
    for (const match of source.matchAll(/\bt\(\s*"([^"]+)"/g)) {
      found += 1;
      if (!(match[1] in locales.sv)) missing.push(`${name}: ${match[1]}`);
    }
  }
  assert.ok(found > 50, `only ${found} t("…") calls found: has the code changed its style?`);
  assert.deepEqual(missing, []);
});

test("keys chosen by a condition or kept in a table exist too", () => {
  // t(cond ? "a" : "b"), [format, "pr.exportJson"], { online: "conn.online" }: every quoted
  // literal in a translation key's shape, within a namespace the locale uses.
  const namespaces = new Set(Object.keys(locales.sv).map((key) => key.split(".")[0]));
  const missing = [];
  for (const [name, source] of Object.entries(sources)) {
    for (const match of source.matchAll(/["']([a-z]+(?:\.[a-zA-Z_]+)+)["']/g)) {
      const key = match[1];
      if (namespaces.has(key.split(".")[0]) && !(key in locales.sv)) missing.push(`${name}: ${key}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("keys built from a prefix (t(`phase.${phase}`)) have every value the code can pass", () => {
  const families = {
    "phase.": ["lobby", "grade", "reflect", "document", "closed"],
    "lang.": ["sv", "en", "fi"],
    "color.": ["yellow", "pink", "blue", "green", "orange", "purple"],
    "pr.": ["spectrum", "profile", "board", "questions"],
    "stats.": ["n", "mean", "median", "sd"],
    "error.": ["voting_locked", "room_closed", "not_author", "not_found"],
    "insight.": ["too_few", "agreement", "spread", "two_camps"],
  };
  const used = new Set();
  for (const source of Object.values(sources)) {
    for (const match of source.matchAll(/\bt\(\s*`([a-z]+\.)\$\{/g)) used.add(match[1]);
  }
  for (const prefix of used) {
    const values = families[prefix];
    if (!values) {
      // A new family: at least some key must carry the prefix.
      assert.ok(Object.keys(locales.sv).some((key) => key.startsWith(prefix)), `no key starts with ${prefix}`);
      continue;
    }
    for (const value of values) assert.ok(`${prefix}${value}` in locales.sv, `${prefix}${value}`);
  }
});

test("plural forms: each has its general form, the same placeholders, and a count {n}", () => {
  const forms = /\.(zero|one|two|few|many)$/;
  for (const [language, messages] of Object.entries(locales)) {
    for (const key of Object.keys(messages).filter((k) => forms.test(k))) {
      const base = key.replace(forms, "");
      assert.ok(base in messages, `${language}: ${key} has no general form ${base}`);
      assert.deepEqual(placeholders(messages[key]), placeholders(messages[base]), `${language}: ${key}`);
      assert.ok(placeholders(messages[base]).includes("n"), `${language}: ${base} has forms but no {n}`);
    }
  }
});

test("every count a language tells apart has its words, for every message with forms", () => {
  const forms = /\.(zero|one|two|few|many)$/;
  const bases = new Set(Object.keys(locales.sv).filter((k) => forms.test(k)).map((k) => k.replace(forms, "")));
  assert.ok(bases.size >= 10, `only ${bases.size} messages with plural forms`);
  for (const [language, messages] of Object.entries(locales)) {
    const rules = new Intl.PluralRules(language);
    for (const base of bases) {
      for (let n = 0; n <= 200; n += 1) {
        const category = rules.select(n);
        if (category !== "other") assert.ok(`${base}.${category}` in messages, `${language}: ${base}.${category} (n = ${n})`);
      }
    }
  }
});

test("the words people see most often agree with their count", () => {
  const words = {
    sv: { "note.votes": ["1 röst", "2 röster"], "conn.pending": ["1 ändring väntar på att skickas", "3 ändringar väntar på att skickas"], "shift.stayed": ["1 oförändrad", "2 oförändrade"] },
    en: { "note.votes": ["1 vote", "2 votes"], "conn.pending": ["1 change waiting to be sent", "3 changes waiting to be sent"], "stats.n": ["1 answer", "7 answers"] },
    fi: { "note.votes": ["1 ääni", "2 ääntä"], "conn.pending": ["1 muutos odottaa lähetystä", "3 muutosta odottaa lähetystä"], "stats.n": ["1 vastaus", "7 vastausta"] },
  };
  for (const [language, expected] of Object.entries(words)) {
    const t = createTranslator(locales[language], locales.sv, language);
    for (const [key, [single, plural]] of Object.entries(expected)) {
      assert.equal(t(key, { n: 1 }), single);
      assert.equal(t(key, { n: Number(plural.split(" ")[0]) }), plural);
    }
  }
});
