// What the grading shows and chooses, as pure rules (no DOM; tested with `node --test`):
// which answer is yours right now, what a key press chooses, when last round's answer may
// be seen, and where "next" goes.

/** The grades a statement can have, then "don't know". */
export const VALUES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
export const UNKNOWN = "unknown";

/**
 * Your answer as it is now: the newest one still on its way to the server (it will be
 * stored, or refused and then the stored one shows again), else the stored one, else null.
 */
export function currentAnswer(state, outbox, statementId, kind = "today") {
  const pending = outbox.pendingScore(statementId, kind);
  if (pending) return pending.value;
  const mine = kind === "desired" ? state.myDesiredScores : state.myScores;
  return mine?.[statementId] ?? null;
}

/** How many statements have today's answer (a grade or "don't know"). */
export function answeredCount(state, outbox) {
  return state.template.statements.filter((s) => currentAnswer(state, outbox, s.id) !== null).length;
}

/**
 * The answer a key chooses: 1–9, 0 for 10 (the digits in a row), and the language's own
 * letter for "don't know"; null for any other key, or a key with Ctrl, Alt or Meta (those
 * belong to the browser and the screen reader).
 */
export function answerForKey(event, unknownKey) {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  if (/^[0-9]$/.test(event.key)) return event.key === "0" ? 10 : Number(event.key);
  if (unknownKey && event.key.toLowerCase() === unknownKey.toLowerCase()) return UNKNOWN;
  return null;
}

/**
 * Last round's answer, or null when it must not be shown yet. It is shown only once you
 * have answered in this round, so that it cannot anchor the new answer (docs/insight.md).
 */
export function previousAnswerShown(previous, current) {
  if (previous === null || previous === undefined) return null;
  if (current === null || current === undefined) return null;
  return previous;
}

/** The place after `at` in a list of `count` (or null at the end); likewise before. */
export function step(at, count, direction) {
  const next = at + direction;
  return next >= 0 && next < count ? next : null;
}
