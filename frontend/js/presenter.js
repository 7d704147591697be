// The facilitator's console, on a laptop or a phone: every control of the room, a preview
// of what the room's screen shows and the buttons that choose it, links for co-facilitators
// (each with a key of its own, revocable), and the full results once revealed (until then the
// console, too, sees only how many have answered). What the room sees is the screen
// (/r/{id}/screen, screen.js).
//
// The key comes from the link's fragment (#token=…, never sent to a server) or from this
// browser's storage. It is stored only once the server has accepted it, so a wrong link
// never replaces a working key, and a co-facilitator's key never replaces a stored one (it
// may be the facilitator's own); a stored key the server refuses is forgotten. A console
// opened with a co-facilitator's key (the welcome says so) runs the room the same way but
// shows no deleting of the room and no co-facilitator links, which that key may not do.

import { Board } from "./board.js";
import { CoFacilitators } from "./co-facilitators.js";
import { h } from "./dom.js";
import { facilitatorKey, forgetRoom, rememberRoom } from "./my-rooms.js";
import { endedMessage, startRoomPage } from "./page.js";
import { roomIdFromPath } from "./protocol.js";
import { ORDERS, Results, statementOrder } from "./results.js";
import { RoomSettings } from "./room-settings.js";
import { ScreenControls } from "./screen-controls.js";
import { spacedCode } from "./screen-parts.js";
import { currentScreen } from "./screen-view.js";
import { endReason } from "./state.js";

const PHASES = ["lobby", "grade", "reflect", "document", "closed"];
const VIEWS = ["spectrum", "groupsView", "profile", "board", "questions"];
const EXPORTS = [
  ["json", "pr.exportJson"],
  ["csv", "pr.exportCsv"],
  ["md", "pr.exportMd"],
  ["html", "pr.exportHtml"],
];
const ORDER_LABELS = { template: "pr.sortTemplate", disagreement: "pr.sortDisagreement", gap: "pr.sortGap" };
// The views that show figures: they make no sense on the screen while a new round is graded blind.
const RESULT_VIEWS = new Set(["overview", "statement"]);

const roomId = roomIdFromPath();
const roomPath = `/r/${encodeURIComponent(roomId)}`;
const stored = localStorage.getItem(facilitatorKey(roomId));
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  // Keep the secret out of the address bar, the history and screenshots of the console.
  history.replaceState(null, "", location.pathname);
}
const token = fromLink || stored;
let live = null;
let locale = null;
let text = null;
let frame = null;
let parts = null;
// Which view and which order are shown outlive a change of language.
let view = "spectrum";
let sortOrder = "template";
let everOnline = false;

startRoomPage({
  token,
  withoutToken: (t) => noKey(t, t("pr.noToken")),
  bodyClass: "presenter",
  title: (settings) => `${settings.title} – Samskapa`,
  mount(room) {
    ({ live, locale, text, frame } = room);
    parts = buildParts({ ...room, roomId });
    showView();
    return { update: render };
  },
  onMessage(message, room) {
    if (message.type !== "welcome" || message.you.role !== "facilitator") return;
    // Accepted: from now on this browser opens the console without the link.
    const held = localStorage.getItem(facilitatorKey(roomId));
    if (!(message.you.co_facilitator && held && held !== token)) localStorage.setItem(facilitatorKey(roomId), token);
    const settings = room.live.state.settings;
    rememberRoom(localStorage, { id: roomId, title: settings.title, join_code: settings.join_code, expires_at: settings.expires_at });
  },
  ended(room) {
    const reason = endReason(room.live.state, room.live.finalReason);
    if (reason === "unauthorized") {
      if (token === stored) forgetRoom(localStorage, roomId);
      return noKey(room.locale.t, room.locale.t("pr.badKey"));
    }
    if (reason === "revoked") {
      // Its key is refused from now on: this browser forgets it (not another key it holds).
      if (token === localStorage.getItem(facilitatorKey(roomId))) forgetRoom(localStorage, roomId);
      return noKey(room.locale.t, room.locale.t("room.revoked"));
    }
    forgetRoom(localStorage, roomId);
    return h("div", { class: "ended" },
      h("p", { class: "lead" }, reason === "expired" ? room.locale.t("screen.expired") : endedMessage(room.live, room.locale.t)),
      h("p", {}, h("a", { href: "/" }, room.locale.t("screen.toStart"))));
  },
});

/** No usable key: say so, and offer what this person can still do. */
function noKey(t, why) {
  return h("div", { class: "no-key" },
    h("p", { class: "lead" }, why),
    h("ul", { class: "no-key-options" },
      h("li", {}, h("a", { href: roomPath }, t("pr.asParticipant"))),
      h("li", {}, h("a", { href: `${roomPath}/screen` }, t("pr.asScreen"))),
      h("li", {}, h("a", { href: "/" }, t("screen.toStart")))));
}

function joinPanel() {
  const { t } = locale;
  const participantUrl = `${location.origin}${roomPath}`;
  const code = h("p", { class: "join-code", "aria-label": t("pr.code") });
  const copied = h("span", { class: "muted", "aria-live": "polite" });
  return {
    code,
    element: h(
      "details",
      { class: "join-panel" },
      h("summary", {}, t("pr.joinAt", { host: location.host }), " ", code),
      h("img", { class: "qr", src: `/api/rooms/${encodeURIComponent(roomId)}/qr.svg`, alt: t("pr.qr"), width: 200, height: 200 }),
      h("p", { class: "link" }, h("span", { class: "visually-hidden" }, `${t("pr.link")}: `), h("a", { href: participantUrl }, participantUrl)),
      h("button", {
        type: "button",
        on: { click: async () => { await navigator.clipboard?.writeText(participantUrl); copied.textContent = t("pr.copied"); } },
      }, t("pr.copy")),
      copied,
    ),
  };
}

function controls() {
  const { t } = locale;
  const phaseButtons = new Map(
    PHASES.map((phase) => [phase, h("button", { type: "button", on: { click: () => live.send({ type: "set_phase", phase }) } }, t(`phase.${phase}`))]),
  );
  const reveal = h("button", { type: "button", class: "toggle", on: { click: () => setResultsVisible(!live.state.settings.results_visible) } });
  const lock = h("button", { type: "button", class: "toggle", on: { click: () => live.send({ type: "set_voting_locked", locked: !live.state.settings.voting_locked }) } });
  const desired = h("button", { type: "button", class: "toggle", on: { click: () => live.send({ type: "update_room", desired_enabled: !live.state.settings.desired_enabled }) } }, t("pr.desired"));
  const resultsNote = h("p", { class: "muted small" });
  const minutes = h("input", { id: "timer-minutes", type: "number", min: 1, max: 180, value: 5, inputmode: "numeric" });
  const timerForm = h("form", { class: "timer-form" },
    h("label", { for: "timer-minutes" }, t("pr.timer.minutes")), minutes,
    h("button", { type: "submit" }, t("pr.timer.start")),
    h("button", { type: "button", on: { click: () => live.send({ type: "set_timer", seconds: null }) } }, t("pr.timer.stop")));
  timerForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Math.round(Number(minutes.value) * 60);
    if (value >= 1) live.send({ type: "set_timer", seconds: value });
  });
  const stats = { round: h("li"), online: h("li"), voted: h("li"), completed: h("li") };
  const roundDialog = h("dialog", { class: "confirm", "aria-labelledby": "round-title" });
  const newRound = h("button", { type: "button", on: { click: () => {
    const n = live.state.settings.round;
    roundDialog.replaceChildren(
      h("h2", { id: "round-title" }, t("pr.newRound")),
      h("p", {}, t("pr.newRoundConfirm", { n, next: n + 1 })),
      h("form", { method: "dialog", class: "row" },
        h("button", { type: "submit", value: "cancel" }, t("note.cancel")),
        h("button", { type: "submit", value: "start", class: "primary" }, t("pr.newRoundYes"))));
    roundDialog.showModal();
  } } }, t("pr.newRound"));
  roundDialog.addEventListener("close", () => {
    if (roundDialog.returnValue !== "start") return;
    live.send({ type: "start_round" });
    // The new round is graded blind: the screen goes back to how to join.
    if (RESULT_VIEWS.has(currentScreen(live.state).view)) live.send({ type: "set_screen", view: "code" });
  });
  const element = h(
    "section",
    { class: "controls", "aria-label": t("pr.heading") },
    h("ul", { class: "stats" }, stats.round, stats.online, stats.voted, stats.completed),
    h("fieldset", { class: "phases" }, h("legend", {}, t("pr.phase")), [...phaseButtons.values()]),
    h("fieldset", {}, h("legend", {}, t("pr.results")), reveal, resultsNote, lock, newRound, roundDialog, desired),
    h("fieldset", {}, h("legend", {}, t("pr.timer")), timerForm),
  );
  return { element, phaseButtons, reveal, lock, desired, resultsNote, stats };
}

/** Revealing shows the results on the screen too, if it was showing how to join. */
function setResultsVisible(visible) {
  live.send({ type: "set_results_visible", visible });
  if (visible && currentScreen(live.state).view === "code") live.send({ type: "set_screen", view: "overview" });
}

function groupsEditor() {
  const { t } = locale;
  const area = h("textarea", { id: "groups-text", rows: 3 });
  const current = live.state.settings.groups.map((g) => g.name);
  // No groups yet: offer the template's suggestion (seed 003: managers, staff, users).
  const suggested = (live.state.template.suggested_groups ?? []).map((names) => text(names));
  area.value = (current.length ? current : suggested).join("\n");
  // k is the room's, not the groups' (it holds back the whole room's figures too): it is set
  // in the room's settings, so that changing it never saves the suggested groups by the way.
  const form = h("form", {},
    h("label", { for: "groups-text" }, t("pr.groups.hint")), area,
    h("button", { type: "submit" }, t("pr.groups.save")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const names = area.value.split("\n").map((line) => line.trim()).filter(Boolean).slice(0, 12);
    const groups = names.map((name, index) => ({ id: slug(name, index), name: name.slice(0, 60) }));
    live.send({ type: "set_groups", groups });
  });
  return h("details", { class: "groups" }, h("summary", {}, t("pr.groups")), form);
}

function slug(name, index) {
  const base = name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 24);
  return `${base || "grupp"}-${index + 1}`;
}

function exportMenu() {
  const { t } = locale;
  const status = h("p", { class: "muted small", "aria-live": "polite" });
  const download = async (format) => {
    status.textContent = "…";
    const response = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/export?format=${format}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({ message: response.statusText }));
      status.textContent = t("error.generic", { message: body.message });
      return;
    }
    const disposition = response.headers.get("content-disposition") ?? "";
    const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1] ?? `samskapa.${format}`;
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: decodeURIComponent(name) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = "";
  };
  return h(
    "details",
    { class: "export-menu" },
    h("summary", {}, t("pr.export")),
    h("ul", {}, EXPORTS.map(([format, key]) => h("li", {}, h("button", { type: "button", dataset: { format }, on: { click: () => download(format) } }, t(key))))),
    status,
  );
}

/** Apart from everything else, at the end, behind a confirmation. */
function deleteRoom() {
  const { t } = locale;
  const failed = h("p", { class: "feedback", role: "alert" });
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "delete-title" },
    h("h2", { id: "delete-title" }, t("pr.delete")),
    h("p", {}, t("pr.deleteConfirm")),
    h("form", { method: "dialog", class: "row" },
      h("button", { value: "cancel", type: "submit" }, t("note.cancel")),
      h("button", { value: "delete", type: "submit", class: "danger" }, t("pr.deleteYes"))));
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    const response = await fetch(`/api/rooms/${encodeURIComponent(roomId)}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
    if (response?.ok) forgetRoom(localStorage, roomId);
    else failed.textContent = t("pr.deleteFailed");
  });
  return h("section", { class: "danger-zone", "aria-labelledby": "danger-title" },
    h("h2", { id: "danger-title" }, t("pr.dangerZone")),
    h("p", { class: "small" }, t("pr.deleteHint")),
    h("button", { type: "button", class: "danger", on: { click: () => dialog.showModal() } }, t("pr.delete")),
    failed,
    dialog);
}

function viewSwitch() {
  const buttons = new Map(
    VIEWS.map((name) => [name, h("button", { type: "button", on: { click: () => { view = name; showView(); } } }, locale.t(`pr.${name}`))]),
  );
  return { element: h("nav", { class: "view-switch", "aria-label": locale.t("pr.tabs") }, [...buttons.values()]), buttons };
}

function showView() {
  for (const [name, button] of parts.views.buttons) {
    button.setAttribute("aria-pressed", String(name === view));
    parts.panels[name].hidden = name !== view;
  }
  if (view === "board") parts.board.update();
  renderResults(true);
}

/** The spectrum's order buttons: the console's own, above the panel (and the order "next" follows on the screen). */
function sortButtons() {
  const buttons = new Map(
    ORDERS.map((order) => [
      order,
      h("button", { type: "button", "aria-pressed": String(order === sortOrder), on: { click: () => { sortOrder = order; renderResults(true); render(); } } },
        locale.t(ORDER_LABELS[order])),
    ]),
  );
  return { element: h("div", { class: "sort-order", role: "group", "aria-label": locale.t("pr.sort") }, [...buttons.values()]), buttons };
}

/** "This statement on the screen", on each statement's card. */
function onScreenButton(statementId, index) {
  const button = h("button", {
    type: "button",
    class: "on-screen",
    "aria-label": locale.t("pr.onScreenLabel", { n: index + 1 }),
    on: { click: () => parts.screen.showStatement(statementId) },
  }, locale.t("pr.onScreen"));
  button.dataset.statement = statementId;
  return button;
}

function buildParts(room) {
  const template = live.state.template;
  const join = joinPanel();
  const control = controls();
  const views = viewSwitch();
  // Hidden from everyone, the console included: the panels say so, and how many have answered.
  const results = new Results(live, locale, { cardAction: onScreenButton, whileHidden: "pr.resultsPending" });
  const screen = new ScreenControls(room, () => statementOrder(live.state, sortOrder));
  const coFacilitator = live.state.you?.co_facilitator === true;
  const coFacilitators = new CoFacilitators(room, token, { coFacilitator });
  const settings = new RoomSettings(room);
  const sorter = sortButtons();
  results.spectrum.element.prepend(sorter.element);
  const boardRoot = h("section", { class: "board", "aria-label": locale.t("pr.board") });
  const questionsPanel = h("section", { class: "questions" },
    template.reflection_title ? h("h2", {}, text(template.reflection_title)) : null,
    h("ol", {}, template.questions.map((q) => h("li", {}, text(q.text)))),
    h("p", { class: "muted" }, locale.t("reflect.by")),
    template.credit ? h("p", { class: "credit muted small" }, `${locale.t("credit.label")}: ${text(template.credit)}`) : null);
  const shown = Object.fromEntries(Object.entries(results.panels).map(([name, panel]) => [name, panel.element]));
  const panels = { ...shown, board: boardRoot, questions: questionsPanel };
  const offline = h("p", { class: "console-offline", role: "alert" });
  frame.main.replaceChildren(
    offline,
    h("div", { class: "console-layout" },
      h("div", { class: "console-side" },
        screen.element,
        control.element,
        join.element,
        coFacilitators.element,
        settings.element,
        groupsEditor(),
        exportMenu(),
        coFacilitator ? null : deleteRoom()),
      h("div", { class: "stage" }, views.element, ...Object.values(panels),
        h("p", {}, h("a", { href: `${roomPath}/board`, target: "_blank", rel: "noopener" }, locale.t("pr.boardLink"))))),
  );
  const board = new Board(boardRoot, live, locale);
  return { join, control, views, results, sorter, board, panels, screen, coFacilitators, settings, offline };
}

function renderResults(force = false) {
  parts.results.spectrum.order = sortOrder;
  parts.results.update(view, force);
  if (view !== "spectrum") return;
  // Nothing to order while no figures are shown.
  parts.sorter.element.hidden = !live.state.spectrum?.statements;
  for (const [order, button] of parts.sorter.buttons) {
    button.setAttribute("aria-pressed", String(order === sortOrder));
    if (order === "gap") button.hidden = !live.state.settings.desired_enabled;
  }
}

function render() {
  const { t } = locale;
  const state = live.state;
  const { control, join } = parts;
  // Lost at once, and said at once: nothing chosen now reaches the room until it is back.
  if (live.status === "online") everOnline = true;
  parts.offline.hidden = !everOnline || live.status === "online";
  parts.offline.textContent = parts.offline.hidden ? "" : t("pr.offline");
  join.code.textContent = spacedCode(state.settings.join_code);
  for (const [phase, button] of control.phaseButtons) button.setAttribute("aria-pressed", String(state.settings.phase === phase));
  control.reveal.textContent = t(state.settings.results_visible ? "pr.hide" : "pr.reveal");
  control.reveal.setAttribute("aria-pressed", String(state.settings.results_visible));
  control.resultsNote.textContent = t(state.settings.results_visible ? "pr.visibleNote" : "pr.hiddenNote");
  control.lock.textContent = t(state.settings.voting_locked ? "pr.unlock" : "pr.lock");
  control.lock.setAttribute("aria-pressed", String(state.settings.voting_locked));
  control.desired.setAttribute("aria-pressed", String(state.settings.desired_enabled));
  control.stats.round.textContent = t("round.label", { n: state.settings.round });
  control.stats.online.textContent = t("pr.online", { n: state.presence.online });
  control.stats.voted.textContent = t("pr.voted", { n: state.spectrum?.voters ?? 0 });
  control.stats.completed.textContent = t("pr.completed", { n: state.spectrum?.completed ?? 0 });
  const onScreen = currentScreen(state);
  for (const button of frame.main.querySelectorAll("button.on-screen")) {
    button.setAttribute("aria-pressed", String(onScreen.view === "statement" && onScreen.statement_id === button.dataset.statement));
  }
  parts.screen.update();
  parts.coFacilitators.update();
  parts.settings.update();
  if (view === "board") parts.board.update();
  renderResults();
}
