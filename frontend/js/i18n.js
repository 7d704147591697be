// Translation lookup: pure functions, no DOM, no fetch (tested with `node --test`).

export const LANGUAGES = ["sv", "en", "fi"];
export const DEFAULT_LANGUAGE = "sv";

/** Replace {name} placeholders; unknown placeholders stay visible so a gap is noticed. */
export function fill(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** A translator over one locale, falling back to another (Swedish) and then to the key. */
export function createTranslator(messages, fallback = {}) {
  return function t(key, params) {
    const template = messages[key] ?? fallback[key] ?? key;
    return fill(template, params);
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
