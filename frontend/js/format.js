// Number and aggregate formatting: pure, locale-aware (decimal comma in Swedish and Finnish).

const LOCALES = { sv: "sv-SE", en: "en-GB", fi: "fi-FI" };

export function formatNumber(value, language, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(LOCALES[language] ?? language, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** Seconds left on a timer, given the server's end time and our clock's offset to it. */
export function secondsLeft(endsAtIso, nowMs, serverOffsetMs = 0) {
  if (!endsAtIso) return null;
  const left = (Date.parse(endsAtIso) - (nowMs + serverOffsetMs)) / 1000;
  return Math.max(0, Math.ceil(left));
}

export function formatClock(totalSeconds) {
  if (totalSeconds === null) return "";
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

/** A textual bar for screen readers and tables: "3 at 2, 5 at 7". */
export function describeHistogram(histogram, describeBar) {
  const parts = [];
  histogram.forEach((count, index) => {
    if (count > 0) parts.push(describeBar(count, index + 1));
  });
  return parts.join(", ");
}

/** A day as people write it in the language: "10 mars 2026", "10 Mar 2026", "10.3.2026". */
export function formatDate(iso, language) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(LOCALES[language] ?? language, { dateStyle: "medium" }).format(date);
}

/** A moment as people write it in the language, day and time of day: "3 dec. 14:02". */
export function formatMoment(iso, language, timeZone = undefined) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const options = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone };
  return new Intl.DateTimeFormat(LOCALES[language] ?? language, options).format(date);
}
