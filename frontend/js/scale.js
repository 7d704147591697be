// One answer to one statement: the grades 1–10 and "don't know" as one group of radio
// buttons, none chosen until you choose, so that every value (5 too) is one tap, one click
// or one key away and a tap is never lost on a value that only looked chosen. Clearing
// unchecks them all, so that tapping the same value again is a new answer.
//
// Locked grading keeps the buttons focusable (aria-disabled) instead of disabling them: a
// disabled button drops the keyboard focus to the page, and a lock is someone else's doing.

import { h } from "./dom.js";
import { UNKNOWN, VALUES, answerForKey } from "./answers.js";

export class Scale {
  /**
   * @param {object} options
   * @param {string} options.id        unique on the page; the radios are `${id}-${value}`
   * @param {number} options.number    the statement's number, for the clear button's name
   * @param {string} options.label     the group's accessible name (statement and poles)
   * @param {string|null} options.kind the visible "today" or "desired", when there are two
   * @param {{t: Function}} options.locale
   * @param {(value: number|string|null) => void} options.onAnswer  a new answer (null: cleared)
   */
  constructor({ id, number, label, kind = null, locale, onAnswer }) {
    const { t } = locale;
    this.t = t;
    this.locked = false;
    this.onAnswer = onAnswer;
    this.unknownKey = t("grade.unknownKey");
    this.radios = new Map();
    const option = (value, text, extra = null) => {
      const radio = h("input", { type: "radio", name: id, id: `${id}-${value}`, value: String(value) });
      this.radios.set(value, radio);
      return h("label", { class: ["scale-option", extra], for: radio.id }, radio, h("span", { class: "scale-text" }, text));
    };
    const prefix = kind ? `${kind}: ` : "";
    this.status = h("p", { class: "scale-status", id: `${id}-status` });
    this.previous = h("p", { class: "previous-answer", id: `${id}-previous`, hidden: true });
    this.clear = h("button", { type: "button", class: "clear", "aria-label": prefix + t("slider.clearLabel", { n: number }) }, t("slider.clear"));
    this.element = h(
      "fieldset",
      { class: "scale", id, role: "radiogroup", "aria-label": prefix + label },
      kind ? h("legend", { class: "kind-label" }, kind) : null,
      h("div", { class: "scale-values" }, VALUES.map((value) => option(value, String(value)))),
      h("div", { class: "scale-footer" }, option(UNKNOWN, t("slider.unknown"), "scale-unknown"), this.status, this.clear),
      this.previous,
    );
    this.element.addEventListener("change", (event) => {
      this.onAnswer(event.target.value === UNKNOWN ? UNKNOWN : Number(event.target.value));
    });
    // While locked, a click must not check another radio (checking is a click's default).
    this.element.addEventListener("click", (event) => {
      if (this.locked && event.target.type === "radio") event.preventDefault();
    }, { capture: true });
    this.element.addEventListener("keydown", (event) => this.key(event));
    this.clear.addEventListener("click", () => {
      if (this.locked) return;
      for (const radio of this.radios.values()) radio.checked = false;
      this.onAnswer(null);
      this.focus();
    });
  }

  key(event) {
    if (this.locked) {
      if (event.key.startsWith("Arrow") || event.key === " ") event.preventDefault();
      return;
    }
    const value = answerForKey(event, this.unknownKey);
    if (value === null) return;
    event.preventDefault();
    const radio = this.radios.get(value);
    radio.focus();
    if (radio.checked) return;
    radio.checked = true;
    this.onAnswer(value);
  }

  /** Focus the chosen answer, or the first when there is none (where Tab would go). */
  focus(options = {}) {
    const chosen = [...this.radios.values()].find((radio) => radio.checked);
    (chosen ?? this.radios.get(VALUES[0])).focus(options);
  }

  contains(element) {
    return this.element.contains(element);
  }

  /**
   * Show `value` (a grade, "unknown" or null) as chosen; `previous` is last round's answer
   * where it may be seen (else null); `locked` whether grading is locked.
   */
  paint(value, previous, locked) {
    const { t } = this;
    const said = (answer) => (answer === UNKNOWN ? t("slider.unknown") : answer);
    for (const [option, radio] of this.radios) radio.checked = option === value;
    this.element.classList.toggle("answered", value !== null);
    this.clear.classList.toggle("invisible", value === null);
    this.status.textContent = value === null ? t("slider.unrated") : t("grade.answer", { value: said(value) });
    this.previous.hidden = previous === null;
    if (previous !== null) this.previous.textContent = t("slider.previous", { value: said(previous) });
    // Only what is shown is described: a hidden previous answer must not anchor by ear either.
    this.element.setAttribute("aria-describedby", previous === null ? this.status.id : `${this.status.id} ${this.previous.id}`);
    this.locked = locked;
    this.element.classList.toggle("locked", locked);
    for (const control of [...this.radios.values(), this.clear]) {
      if (locked) control.setAttribute("aria-disabled", "true");
      else control.removeAttribute("aria-disabled");
    }
  }
}
