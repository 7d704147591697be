// Who you are in the room: an optional name and, when the room has groups, your group. Asked
// once, open at the top, when you join (and again if groups appear later and you have none);
// after that a line "You: Anna · Staff" that opens to change either.

import { h } from "./dom.js";

const askedKey = (roomId) => `samskapa:asked:${roomId}`;

export class Profile {
  constructor({ roomId, live, locale }) {
    this.roomId = roomId;
    this.live = live;
    this.locale = locale;
    this.phase = null;
    this.root = this.build();
  }

  get groups() {
    return this.live.state.settings.groups;
  }

  /**
   * Whether you were asked what there is to ask: the name, and the group if there are
   * groups. Having answered it (on this device or another: a name, a group) counts too.
   */
  get asked() {
    const asked = localStorage.getItem(askedKey(this.roomId));
    const you = this.live.state.you;
    if (asked === "group" || you?.group) return true;
    if (this.groups.length) return false;
    return asked === "name" || Boolean(you?.name);
  }

  remember() {
    localStorage.setItem(askedKey(this.roomId), this.groups.length ? "group" : "name");
  }

  build() {
    const { t } = this.locale;
    const you = this.live.state.you;
    const name = h("input", { id: "profile-name", type: "text", maxlength: 60, autocomplete: "nickname", value: you?.name ?? "", "aria-describedby": "profile-name-hint" });
    const groupChoice = this.groups.length ? this.groupChoice(you?.group ?? null) : null;
    // Said to a screen reader; the eye sees the summary change.
    this.saved = h("p", { class: "visually-hidden", role: "status" });
    this.summary = h("summary", {});
    const form = h(
      "form",
      { class: "profile-form" },
      h("div", { class: "field" },
        h("label", { for: "profile-name" }, t("p.name.label")),
        name,
        h("p", { class: "hint", id: "profile-name-hint" }, t("p.name.hint"))),
      groupChoice,
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, t("p.profile.save"))),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const command = { type: "set_profile", name: name.value.trim() || null };
      if (groupChoice) command.group = form.querySelector("input[name=profile-group]:checked")?.value || null;
      this.live.send(command);
      this.remember();
      this.saved.textContent = t("p.profile.saved");
      // Closing hides the button that had the focus: give it to what stays, the summary.
      this.details.open = false;
      this.summary.focus();
    });
    this.details = h("details", { class: "profile", open: this.phaseOpen() }, this.summary, form);
    this.details.addEventListener("toggle", () => {
      if (!this.details.open) this.remember();
    });
    this.update();
    return h("div", { class: "profile-box" }, this.details, this.saved);
  }

  groupChoice(current) {
    const { t } = this.locale;
    const option = (value, label) =>
      h("label", { class: "choice" },
        h("input", { type: "radio", name: "profile-group", id: `profile-group-${value || "none"}`, value, checked: value === (current ?? "") }),
        label);
    // Shown, and the choices disabled, once this person has answered (see `update`).
    this.groupFixed = h("p", { class: "hint", id: "profile-group-fixed", hidden: true }, t("p.group.fixed"));
    // Right under the question, so that it is read before the choices that no longer change.
    return h("fieldset", { class: "field group-choice", "aria-describedby": "profile-group-fixed" },
      h("legend", {}, t("p.group.label")),
      this.groupFixed,
      this.groups.map((group) => option(group.id, group.name)),
      option("", t("p.group.none")));
  }

  phaseOpen() {
    return this.live.state.settings.phase === "lobby" || !this.asked;
  }

  /**
   * Someone who starts grading or writing without answering has seen the question and let
   * it be: it closes at the next phase change instead of staying open above everything.
   */
  update() {
    const state = this.live.state;
    // The server says so in the welcome (a cleared or an earlier round's answer counts too); an
    // answer given since is in the outbox's scores.
    const answered = Boolean(state.you?.group_fixed) || [state.myScores, state.myDesiredScores, state.myPreviousScores].some((scores) => Object.keys(scores ?? {}).length > 0);
    const acted = answered || [...state.notes.values()].some((note) => note.author_id === state.you?.participant_id);
    if (acted && !this.asked) this.remember();
    // The server keeps a group once its member has answered (docs/insight.md): say so
    // before someone tries, instead of refusing after.
    if (this.groupFixed && this.groupFixed.hidden === answered) {
      this.groupFixed.hidden = !answered;
      for (const input of this.details.querySelectorAll("input[name=profile-group]")) input.disabled = answered;
    }
    const phase = state.settings.phase;
    // Open or close it only when the phase changes (the page changes then anyway), never
    // under someone's finger.
    if (this.phase !== null && phase !== this.phase) this.details.open = this.phaseOpen();
    this.phase = phase;
    const text = this.summaryText();
    if (this.summary.textContent !== text) this.summary.textContent = text;
  }

  summaryText() {
    const { t } = this.locale;
    const you = this.live.state.you;
    const group = this.groups.find((g) => g.id === you?.group)?.name;
    const name = you?.name;
    if (name && group) return `${t("p.you")}: ${name} · ${group}`;
    if (name || group) return `${t("p.you")}: ${name || group}`;
    return `${t("p.you")}: ${t(this.groups.length ? "p.anonymousNoGroup" : "p.anonymous")}`;
  }
}
