// The room's settings in the console: its title, its language, its case number (a Swedish
// diarienummer, which heads every export) and k, the fewest grades any figure may be about
// (docs/insight.md: a room of two needs k = 2 to see its figures at all), and how many notes
// each participant may vote for (0: no limit). Saved with one
// `update_room` carrying only what changed; the fields show what the server holds whenever
// nobody is editing them.

import { h } from "./dom.js";
import { LANGUAGES } from "./i18n.js";

const MAX_CASE_NUMBER = 40;
const K_MIN = 2;
const K_MAX = 50;
const VOTES_MAX = 20;

export class RoomSettings {
  constructor({ live, locale }) {
    const { t } = locale;
    this.live = live;
    this.title = h("input", { id: "room-settings-title", type: "text", maxlength: 120, required: true });
    this.language = h("select", { id: "room-settings-language" },
      LANGUAGES.map((language) => h("option", { value: language, lang: language }, t(`lang.${language}`))));
    this.caseNumber = h("input", { id: "room-settings-case", type: "text", maxlength: MAX_CASE_NUMBER, autocomplete: "off", "aria-describedby": "room-settings-case-hint" });
    this.k = h("input", { id: "room-settings-k", type: "number", min: K_MIN, max: K_MAX, step: 1, inputmode: "numeric", required: true, "aria-describedby": "room-settings-k-hint" });
    this.votes = h("input", { id: "room-settings-votes", type: "number", min: 0, max: VOTES_MAX, step: 1, inputmode: "numeric", required: true, "aria-describedby": "room-settings-votes-hint" });
    this.saved = h("p", { class: "muted small", role: "status" });
    this.form = h("form", { class: "room-settings-form" },
      h("label", { for: this.title.id }, t("rs.title")), this.title,
      h("label", { for: this.language.id }, t("rs.language")), this.language,
      h("label", { for: this.caseNumber.id }, t("rs.caseNumber")), this.caseNumber,
      h("p", { id: "room-settings-case-hint", class: "hint" }, t("rs.caseHint")),
      h("label", { for: this.k.id }, t("rs.k")), this.k,
      h("p", { id: "room-settings-k-hint", class: "hint" }, t("rs.kHint")),
      h("label", { for: this.votes.id }, t("rs.votes")), this.votes,
      h("p", { id: "room-settings-votes-hint", class: "hint" }, t("rs.votesHint")),
      h("button", { type: "submit" }, t("rs.save")),
      this.saved);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(t);
    });
    this.form.addEventListener("input", () => {
      this.saved.textContent = "";
    });
    this.element = h("details", { class: "room-settings" }, h("summary", {}, t("rs.heading")), this.form);
    this.fill(true);
  }

  save(t) {
    const settings = this.live.state.settings;
    const changes = {};
    const title = this.title.value.trim();
    if (title && title !== settings.title) changes.title = title;
    if (this.language.value !== settings.language) changes.language = this.language.value;
    const caseNumber = this.caseNumber.value.trim();
    if (caseNumber !== (settings.case_number ?? "")) changes.case_number = caseNumber;
    const k = Number(this.k.value);
    if (Number.isInteger(k) && k >= K_MIN && k <= K_MAX && k !== settings.group_min_size) changes.group_min_size = k;
    const votes = Number(this.votes.value);
    if (Number.isInteger(votes) && votes >= 0 && votes <= VOTES_MAX && votes !== (settings.votes_per_person ?? 0)) changes.votes_per_person = votes;
    if (!title) this.title.value = settings.title;
    if (!Object.keys(changes).length) return;
    this.live.send({ type: "update_room", ...changes });
    this.saved.textContent = t("rs.saved");
  }

  /** Show the server's values, except in a field someone is typing in. */
  fill(force = false) {
    const settings = this.live.state.settings;
    const editing = this.form.contains(document.activeElement);
    if (!force && editing) return;
    this.title.value = settings.title;
    this.language.value = settings.language;
    this.caseNumber.value = settings.case_number ?? "";
    this.k.value = String(settings.group_min_size);
    this.votes.value = String(settings.votes_per_person ?? 0);
  }

  update() {
    this.fill();
  }
}
