// Loads the locale files (served by the app) and keeps the chosen language.

import { chooseLanguage, createTranslator, LANGUAGES } from "./i18n.js";
import { h } from "./dom.js";

const STORAGE_KEY = "samskapa:language";
// language -> the promise of its messages: asked for at once as the language and as the
// fallback (both Swedish by default), a locale is still fetched once.
const cache = new Map();

function loadMessages(language) {
  if (!cache.has(language)) {
    // Beside this module, under its versioned URL (/static/<version>/locales/…, app/assets.py):
    // cached for good like the modules, so a returning phone does not ask for it again
    // (0.3 s on slow 3G, docs/performance.md). The pages' heads preload the same URL.
    const url = new URL(`../locales/${language}.json`, import.meta.url);
    const messages = fetch(url).then((response) => {
      if (!response.ok) throw new Error(`${url.pathname}: ${response.status}`);
      return response.json();
    });
    // A failed fetch (offline) is not kept: the next language change asks again.
    messages.catch(() => cache.delete(language));
    cache.set(language, messages);
  }
  return cache.get(language);
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
