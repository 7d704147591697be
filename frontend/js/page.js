// What every room page shares: the header with connection status, timer and language, the
// live region, and error messages from the server.

import { createAnnouncer, h } from "./dom.js";
import { formatClock, secondsLeft } from "./format.js";
import { languageSwitch } from "./locale.js";

export function roomIdFromPath() {
  const match = location.pathname.match(/^\/r\/([^/]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

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
  const labels = { online: "conn.online", connecting: "conn.connecting", offline: "conn.offline", ended: "conn.offline" };
  const pending = live.outbox.size;
  frame.status.className = `status status-${live.status}`;
  frame.status.textContent = t(labels[live.status]) + (pending && live.status !== "online" ? ` · ${t("conn.pending", { n: pending })}` : "");
}

/** Keeps the countdown ticking once a second from the server's end time. */
export function startTimer(frame, live, t) {
  const tick = () => {
    const ends = live.state.settings?.timer_ends_at;
    const left = secondsLeft(ends, Date.now(), live.state.serverOffsetMs);
    frame.timer.hidden = left === null;
    if (left === null) return;
    frame.timer.textContent = left > 0 ? `${t("timer.label")} ${formatClock(left)}` : t("timer.done");
    frame.timer.classList.toggle("timer-done", left === 0);
  };
  tick();
  return setInterval(tick, 1000);
}

/** Shows a refused command briefly; the text is the server's, inserted as text. */
export function showError(frame, t, error) {
  const known = ["voting_locked", "room_closed", "not_author", "not_found"];
  const text = known.includes(error.code) ? t(`error.${error.code}`) : t("error.generic", { message: error.message });
  const item = h("p", { class: "alert" }, text);
  frame.alerts.append(item);
  setTimeout(() => item.remove(), 6000);
}

export function endedMessage(live, t) {
  return { not_found: t("room.notFound"), deleted: t("room.deleted"), unauthorized: t("room.unauthorized") }[live.finalReason] ?? t("room.notFound");
}
