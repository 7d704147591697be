// What the screen's views share: whether figures may be shown, how many have answered, and
// a statement's two poles. The screen shows only what participants see; the console's
// preview mounts the same views on the facilitator's state, which always has the figures,
// so the views decide visibility themselves instead of trusting the state to lack them.

import { h } from "./dom.js";

/** Figures may be shown: revealed to everyone, and the latest spectrum says so too. */
export function revealed(state) {
  return Boolean(state.settings?.results_visible && state.spectrum?.visible && state.spectrum.statements);
}

/**
 * "23 av 40 har svarat": voters of this round out of the people online. A person who
 * answered and then left (a phone gone to sleep) still counts as an answer, so the count
 * never reads "25 of 23"; before anyone answers, how many are here.
 */
export function answeredText(state, t) {
  const voters = state.spectrum?.voters ?? 0;
  const online = state.presence.online;
  if (!voters && state.settings.phase !== "grade") return t("screen.here", { n: online });
  if (voters > online) return t("screen.answeredOnly", { n: voters });
  return t("screen.answered", { n: voters, online });
}

/** A statement as the screen shows it: its number and its two poles, left and right. */
export function poles(statement, index, text, className = "screen-poles") {
  return h("p", { class: className },
    h("span", { class: "pole pole-left" }, h("span", { class: "number" }, `${index + 1}. `), text(statement.left)),
    h("span", { class: "pole pole-right" }, text(statement.right)));
}

/** The join code as people type it: two groups of three digits. */
export function spacedCode(code) {
  return code ? `${code.slice(0, 3)} ${code.slice(3)}` : "";
}
