// Translation lookup: pure functions, no DOM, no fetch (tested with `node --test`).

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
