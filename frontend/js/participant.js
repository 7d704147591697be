// The participant's page (phone first): name and group, then whatever the room's phase asks.

import { Board } from "./board.js";
import { h } from "./dom.js";
import { Grading } from "./grading.js";
import { startRoomPage } from "./page.js";
import { figuresTable, polarityProfile } from "./spectrum.js";

let live = null;
let locale = null;
let frame = null;
let text = null;

startRoomPage({
  title: (settings) => `${settings.title} – Samskapa`,
  mount(room) {
    ({ live, locale, frame, text } = room);
    let sections = null;
    let builtFor = null;
    return {
      update() {
        const key = `${live.state.settings.phase}|${live.state.settings.groups.map((g) => g.id).join(",")}|${live.state.settings.desired_enabled}`;
        if (builtFor !== key) {
          sections = buildPhase();
          builtFor = key;
        }
        render(sections);
      },
    };
  },
  onMessage(message, { frame: { announcer }, locale: { t } }) {
    if (message.type === "phase_changed") announcer.now(t("live.phase", { phase: t(`phase.${message.phase}`) }));
    if (message.type === "results_visibility") announcer.now(t(message.visible ? "live.revealed" : "live.hidden"));
    if (message.type === "voting_locked") announcer.now(t(message.locked ? "live.locked" : "live.unlocked"));
    if (message.type === "timer_changed" && message.seconds) announcer.now(t("live.timer", { n: Math.round(message.seconds / 60) }));
    if (message.type === "spectrum" && message.statements) announcer.later(t("live.results", { n: message.voters }));
  },
});

function profileForm() {
  const { t } = locale;
  const you = live.state.you;
  const groups = live.state.settings.groups;
  const name = h("input", { id: "profile-name", type: "text", maxlength: 60, autocomplete: "nickname", value: you?.name ?? "" });
  const saved = h("span", { class: "saved muted", "aria-live": "polite" });
  const group = groups.length
    ? h("select", { id: "profile-group" },
        h("option", { value: "" }, t("p.group.none")),
        groups.map((g) => h("option", { value: g.id, selected: g.id === you?.group }, g.name)))
    : null;
  const form = h(
    "form",
    { class: "profile-form" },
    h("div", { class: "field" },
      h("label", { for: "profile-name" }, t("p.name.label")),
      name,
      h("p", { class: "hint", id: "profile-name-hint" }, t("p.name.hint"))),
    group ? h("div", { class: "field" }, h("label", { for: "profile-group" }, t("p.group.label")), group) : null,
    h("div", { class: "row" }, h("button", { type: "submit" }, t("p.profile.save")), saved),
  );
  name.setAttribute("aria-describedby", "profile-name-hint");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const command = { type: "set_profile", name: name.value.trim() || null };
    if (group) command.group = group.value || null;
    live.send(command);
    saved.textContent = t("p.profile.saved");
  });
  return h("details", { class: "profile", open: live.state.settings.phase === "lobby" },
    h("summary", {}, profileSummary()), form);
}

function profileSummary() {
  const name = live.state.you?.name;
  return name ? `${locale.t("p.you")}: ${name}` : locale.t("p.name.label");
}

function questions() {
  const template = live.state.template;
  return h(
    "section",
    { class: "questions", "aria-labelledby": "questions-title" },
    h("h2", { id: "questions-title" }, template.reflection_title ? text(template.reflection_title) : locale.t("phase.reflect")),
    h("ol", {}, template.questions.map((q) => h("li", {}, text(q.text)))),
    h("p", { class: "muted" }, locale.t("reflect.by")),
  );
}

function buildPhase() {
  const { t } = locale;
  const state = live.state;
  const phase = state.settings.phase;
  const parts = { grading: null, board: null, results: h("div", { class: "results" }) };
  const content = [profileForm()];
  if (phase === "lobby") content.push(h("p", { class: "lead" }, t("p.lobby")));
  if (phase === "closed") content.push(h("p", { class: "lead" }, t("p.closed")));
  if (phase === "grade" || phase === "reflect" || phase === "closed") {
    if (phase === "reflect") content.push(questions());
    parts.grading = new Grading(live, locale);
    content.push(parts.grading.root, parts.results);
  }
  if (phase === "document" || phase === "closed") {
    const boardRoot = h("section", { class: "board", "aria-labelledby": "board-title" });
    content.push(h("h2", { id: "board-title" }, t("doc.heading")), boardRoot);
    parts.board = new Board(boardRoot, live, locale, { readOnly: phase === "closed" });
  }
  frame.main.replaceChildren(...content);
  return parts;
}

function render(sections) {
  const state = live.state;
  const summary = frame.main.querySelector("details.profile > summary");
  if (summary && summary.textContent !== profileSummary()) summary.textContent = profileSummary();
  sections.grading?.update();
  sections.board?.update();
  if (sections.grading && state.spectrum !== sections.shownSpectrum) {
    sections.shownSpectrum = state.spectrum;
    if (state.spectrum?.statements) {
      const tableOpen = sections.results.querySelector("details")?.open ?? false;
      const table = figuresTable(state.template, state.spectrum, locale);
      table.open = tableOpen;
      sections.results.replaceChildren(
        h("h2", {}, locale.t("profile.heading")),
        polarityProfile(state.template, state.spectrum, locale),
        table,
      );
    } else {
      sections.results.replaceChildren();
    }
  }
}
