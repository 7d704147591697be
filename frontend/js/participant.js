// The participant's page (phone first): name and group, then whatever the room's phase asks.

import { Board } from "./board.js";
import { frameThrottle, h } from "./dom.js";
import { Grading } from "./grading.js";
import { pickText } from "./i18n.js";
import { LiveConnection } from "./connection.js";
import { loadLocale, storedLanguage } from "./locale.js";
import { endedMessage, pageFrame, renderStatus, roomIdFromPath, showError, startTimer } from "./page.js";
import { figuresTable, polarityProfile } from "./spectrum.js";

const roomId = roomIdFromPath();
let locale = await loadLocale();
const live = new LiveConnection({ roomId }).start();
let frame = null;
let sections = null;
let timer = null;
let builtFor = null;

function text(localized) {
  return pickText(localized, locale.language, live.state.template.languages);
}

function build() {
  frame = pageFrame(locale, async (language) => {
    locale = await loadLocale(language);
    builtFor = null;
    build();
  });
  clearInterval(timer);
  timer = startTimer(frame, live, locale.t);
  sections = null;
  render();
}

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

function render() {
  if (!frame) return;
  renderStatus(frame, live, locale.t);
  const state = live.state;
  if (live.status === "ended" || state.deleted) {
    frame.main.replaceChildren(h("p", { class: "lead" }, endedMessage(live, locale.t)));
    builtFor = "ended";
    return;
  }
  if (!state.settings) return;
  frame.title.textContent = state.settings.title;
  document.title = `${state.settings.title} – Samskapa`;
  const key = `${state.settings.phase}|${state.settings.groups.map((g) => g.id).join(",")}|${state.settings.desired_enabled}|${locale.language}`;
  if (builtFor !== key) {
    sections = buildPhase();
    builtFor = key;
  }
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

const scheduleRender = frameThrottle(render);
live.addEventListener("change", scheduleRender);
live.addEventListener("message", ({ detail: message }) => {
  if (!frame) return;
  const { t } = locale;
  if (message.type === "error" && message.cid) showError(frame, t, message);
  if (message.type === "phase_changed") frame.announcer.now(t("live.phase", { phase: t(`phase.${message.phase}`) }));
  if (message.type === "results_visibility") frame.announcer.now(t(message.visible ? "live.revealed" : "live.hidden"));
  if (message.type === "voting_locked") frame.announcer.now(t(message.locked ? "live.locked" : "live.unlocked"));
  if (message.type === "timer_changed" && message.seconds) frame.announcer.now(t("live.timer", { minutes: Math.round(message.seconds / 60) }));
  if (message.type === "spectrum" && message.statements) frame.announcer.later(t("live.results", { voters: message.voters }));
});
// Until someone picks a language, a room page speaks the room's language.
live?.addEventListener("message", async ({ detail: message }) => {
  const wanted = live.state.settings?.language;
  if (message.type === "welcome" && !storedLanguage() && wanted && wanted !== locale.language) {
    locale = await loadLocale(wanted);
    builtFor = null;
    build();
  }
});
build();
