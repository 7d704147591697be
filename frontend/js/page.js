// What every room page shares: how it starts (locale, connection, the header with connection
// status, timer and language, the live region) and how it shows the server's refusals.

import { LiveConnection } from "./connection.js";
import { afterPaint, createAnnouncer, frameThrottle, h } from "./dom.js";
import { languageSwitch, loadLocale, pickText, storedLanguage } from "./i18n.js";
import { EXPLAINED_ERRORS, roomIdFromPath } from "./protocol.js";

/** The page chrome; returns the parts a view fills in and updates. */
export function pageFrame(locale, onLanguage) {
  const status = h("p", { class: "status", role: "status" });
  const timer = h("p", { class: "timer", hidden: true });
  const title = h("h1", { class: "room-title" });
  const main = h("main", { id: "main", tabindex: "-1" });
  const live = h("div", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
  const alerts = h("div", { class: "alerts", role: "alert" });
  const header = h(
    "header",
    { class: "room-header" },
    h("div", { class: "brand" }, h("a", { href: "/", class: "logo" }, "Samskapa"), title),
    h("div", { class: "header-tools" }, timer, status, languageSwitch(locale, onLanguage)),
  );
  const app = document.getElementById("app");
  app.replaceChildren(header, alerts, main, live);
  return { header, title, status, timer, main, alerts, announcer: createAnnouncer(live) };
}

export function renderStatus(frame, live, t) {
  const labels = { online: "conn.online", connecting: "conn.connecting", offline: "conn.offline", ended: "conn.ended" };
  const pending = live.outbox.size;
  frame.status.className = `status status-${live.status}`;
  frame.status.textContent = t(labels[live.status]) + (pending && live.status !== "online" ? ` · ${t("conn.pending", { n: pending })}` : "");
}

const loadHeaderTimer = () => import("./header-timer.js");

/** Shows a refused command briefly; the text is the server's, inserted as text. */
export function showError(frame, t, error) {
  const text = EXPLAINED_ERRORS.includes(error.code) ? t(`error.${error.code}`) : t("error.generic", { message: error.message });
  const item = h("p", { class: "alert" }, text);
  frame.alerts.append(item);
  setTimeout(() => item.remove(), 6000);
}

export function endedMessage(live, t) {
  const said = { not_found: "room.notFound", deleted: "room.deleted", unauthorized: "room.unauthorized", revoked: "room.revoked", too_old: "room.tooOld" };
  return t(said[live.finalReason] ?? "room.notFound");
}

/**
 * What a page older than the server's protocol shows once its one reload did not help:
 * the reason and a button to reload by hand (a newer page may be cached a while longer).
 * Every page alike, before its own `ended`, which may forget the room: this room is fine.
 */
export function reloadPrompt(live, t) {
  return h("div", { class: "ended" },
    h("p", { class: "lead" }, endedMessage(live, t)),
    h("p", {}, h("button", { type: "button", class: "primary", on: { click: () => location.reload() } }, t("room.reload"))));
}

/**
 * Start a room page: load the locale, connect, draw the frame, and from then on keep the
 * view in line with the room. The page says only what is its own:
 *
 * - `mount(room)` builds the page's view into `room.frame.main` once the room's settings
 *   are known, and returns `{ update() }`, called on every change (at most once a frame).
 *   A language change or the room's own language at the first welcome draws a new frame
 *   and mounts the view again, so a view may keep the locale it was mounted with.
 *   `explains(error)`, if the view has it, is true of a refusal the view already says in
 *   its own words (a lock note above the answers): shown again, it would be said twice.
 *   `room` is `{ roomId, live, locale, frame, text }`, `text` picking a template text in
 *   the page's language.
 * - `title(settings, t)`: the document's title.
 * - `token`: the facilitator token, or null to be (or become) this browser's participant.
 *   With `withoutToken` (a locale key, or `(t) => element`), a page without a token says
 *   that and connects not.
 *   With `screen`, the page is a read-only view of the room (a projector): no identity.
 * - `ended(room)`: what to say once the room cannot be reached again (deleted, unknown, a
 *   wrong key), as an element; by default the reason in a sentence.
 * - `bodyClass`: the page's class on <body>; `onMessage(message, room)`: what the page
 *   announces of a server message.
 * - `earlyConnection()`: a socket the page opened before this module ran, adopted instead
 *   of opening another, with the messages it heard until then (`LiveConnection.adopt`,
 *   early-connection.js).
 */
export async function startRoomPage({
  mount,
  title,
  token = null,
  withoutToken = null,
  screen = false,
  bodyClass = null,
  onMessage = null,
  ended = null,
  earlyConnection = null,
}) {
  const roomId = roomIdFromPath();
  if (bodyClass) document.body.classList.add(bodyClass);
  let locale = await loadLocale();
  // Taken only now, and adopted below with nothing awaited in between: a message the early
  // socket hears is in what it hands over, or reaches the listeners adopt adds.
  const early = earlyConnection?.() ?? null;
  const connects = Boolean(early) || screen || token || !withoutToken;
  const live = connects ? new LiveConnection({ roomId, token, screen }) : null;
  if (live && !early) live.start();
  let room = null;
  let view = null;
  let timer = null; // the header's countdown ticking, once the room has had a timer
  let timerFrame = null; // the frame it ticks in (a language change draws a new one)

  // The countdown's modules are not among the first screen's (most rooms have no timer
  // running when someone joins): imported when the room has one, and in the background once
  // the page has been drawn, so that a timer started later shows at once.
  function keepTimer() {
    if (!room || timerFrame === room.frame || !live.state.settings?.timer_ends_at) return;
    const { frame } = room;
    const { t } = locale;
    timerFrame = frame;
    loadHeaderTimer().then(
      ({ startTimer }) => {
        if (timerFrame !== frame) return;
        clearInterval(timer);
        timer = startTimer(frame, live, t);
      },
      () => (timerFrame = null), // offline: tried again on the next change
    );
  }

  function build() {
    const frame = pageFrame(locale, async (language) => {
      locale = await loadLocale(language);
      build();
      // Drawn anew in the chosen language: the focus goes back to the language choice.
      document.getElementById("language")?.focus();
    });
    const current = locale;
    room = { roomId, live, locale, frame, text: (localized) => pickText(localized, current.language, live.state.template.languages) };
    view = null;
    if (!live) {
      frame.main.replaceChildren(typeof withoutToken === "function" ? withoutToken(locale.t) : h("p", { class: "lead" }, locale.t(withoutToken)));
      return;
    }
    clearInterval(timer);
    timerFrame = null;
    render();
  }

  function render() {
    if (!room) return;
    const { frame } = room;
    renderStatus(frame, live, locale.t);
    if (live.status === "ended" || live.state.deleted) {
      const tooOld = live.finalReason === "too_old";
      frame.main.replaceChildren(
        tooOld ? reloadPrompt(live, locale.t) : ended ? ended(room) : h("p", { class: "lead" }, endedMessage(live, locale.t)),
      );
      view = null;
      return;
    }
    const settings = live.state.settings;
    if (!settings) return;
    keepTimer();
    frame.title.textContent = settings.title;
    document.title = title(settings, locale.t);
    if (!view) {
      view = mount(room);
      // Once the view's first screen is painted, as participant.js loads its own later parts.
      afterPaint(() => loadHeaderTimer().catch(() => {}));
    }
    view.update();
  }

  if (live) {
    live.addEventListener("change", frameThrottle(render));
    live.addEventListener("message", ({ detail: message }) => {
      if (!room) return;
      if (message.type === "error" && message.cid && !view?.explains?.(message)) showError(room.frame, locale.t, message);
      onMessage?.(message, room);
    });
    // Until someone picks a language, a room page speaks the room's language.
    live.addEventListener("message", async ({ detail: message }) => {
      const wanted = live.state.settings?.language;
      if (message.type === "welcome" && !storedLanguage() && wanted && wanted !== locale.language) {
        locale = await loadLocale(wanted);
        build();
      }
    });
  }
  build();
  // Adopted once the page listens, so that it hears every message the socket heard.
  if (early) live.adopt(early);
  return live;
}
