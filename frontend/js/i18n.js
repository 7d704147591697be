// The page's language: how a message is chosen (pure functions over a locale, tested with
// `node --test`), then, below, the locale files loaded and the language kept and switched,
// for the browser. One module, for a phone on a slow link: each file costs it a round trip
// (docs/performance.md). The pure half touches nothing of the browser, so node imports it all.

import { h } from "./dom.js";

export const LANGUAGES = ["sv", "en", "fi"];
export const DEFAULT_LANGUAGE = "sv";

/** Replace {name} placeholders; unknown placeholders stay visible so a gap is noticed. */
export function fill(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/**
 * A translator over one locale, falling back to another (Swedish) and then to the key.
 *
 * A count is always passed as `n`. A message whose words change with it has its forms as
 * sibling keys named by the language's plural category ("note.votes.one": "{n} röst"); the
 * plain key is the general form ("other": "{n} röster"). Which category a number falls in is
 * the language's own rule (Intl.PluralRules), not ours: Swedish, English and Finnish only
 * tell "one" from "other", but a language added later may need "few" or "many" as well.
 */
export function createTranslator(messages, fallback = {}, language = DEFAULT_LANGUAGE) {
  const rules = new Intl.PluralRules(language);
  return function t(key, params) {
    const category = typeof params?.n === "number" ? rules.select(params.n) : null;
    const pick = (table) => (category && table[`${key}.${category}`]) ?? table[key];
    return fill(pick(messages) ?? pick(fallback) ?? key, params);
  };
}

/** The first supported language among the stored choice and the browser's preferences. */
export function chooseLanguage(stored, preferred = []) {
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of preferred) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return DEFAULT_LANGUAGE;
}

/** A template text ({sv, en, fi}) in the wanted language, else the template's first. */
export function pickText(localized, language, templateLanguages = LANGUAGES) {
  if (!localized) return "";
  if (localized[language]) return localized[language];
  for (const other of templateLanguages) if (localized[other]) return localized[other];
  const any = Object.values(localized);
  return any.length ? any[0] : "";
}

// ---------------------------------------------------------------- in the browser: the locale files

const STORAGE_KEY = "samskapa:language";
// language -> the promise of its messages: asked for at once as the language and as the
// fallback (both Swedish by default), a locale is still fetched once.
const cache = new Map();

function loadMessages(language) {
  if (cache.has(language)) return cache.get(language);
  // Swedish comes in the page itself (app/inlined_files.py): every page needs it as the
  // fallback, and on a slow link a fetch more was a round trip more before the page showed.
  const carried = document.getElementById(`locale-${language}`);
  if (carried) {
    cache.set(language, Promise.resolve(JSON.parse(carried.textContent)));
    return cache.get(language);
  }
  // Another language, beside this module under its versioned URL
  // (/static/<version>/locales/…, app/assets.py): cached for good like the modules, so a
  // returning phone does not ask for it again (0.3 s on slow 3G, docs/performance.md).
  const url = new URL(`../locales/${language}.json`, import.meta.url);
  const messages = fetch(url).then((response) => {
    if (!response.ok) throw new Error(`${url.pathname}: ${response.status}`);
    return response.json();
  });
  // A failed fetch (offline) is not kept: the next language change asks again.
  messages.catch(() => cache.delete(language));
  cache.set(language, messages);
  return messages;
}

/**
 * Swedish unless the person chose otherwise (remembered) or, in a room, the room's language
 * says otherwise. The browser's own preference is not used: a Swedish workshop on an
 * English-configured laptop should still look Swedish.
 */
export function storedLanguage() {
  return localStorage.getItem(STORAGE_KEY);
}

export async function loadLocale(preferred) {
  const language = chooseLanguage(preferred ?? storedLanguage());
  const [messages, fallback] = await Promise.all([loadMessages(language), loadMessages("sv")]);
  const t = createTranslator(messages, fallback, language);
  document.documentElement.lang = language;
  // The skip link is in each page's HTML (it must work before any script), in Swedish; from
  // here on it speaks the page's language like everything else.
  const skip = document.querySelector(".skip-link");
  if (skip) skip.textContent = t("skip.main");
  return { language, t };
}

/** A labelled language select; calls `onChange(language)` after remembering the choice. */
export function languageSwitch(locale, onChange) {
  // One per page, and the same after the page is drawn again in the new language, so the
  // focus can be given back to it.
  const id = "language";
  const select = h(
    "select",
    { id, on: { change: () => { localStorage.setItem(STORAGE_KEY, select.value); onChange(select.value); } } },
    LANGUAGES.map((language) => h("option", { value: language, selected: language === locale.language, lang: language }, locale.t(`lang.${language}`))),
  );
  return h("div", { class: "language-switch" }, h("label", { for: id, text: locale.t("lang.label") }), select);
}
