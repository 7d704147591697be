// The projector page, /r/{room_id}/screen: the room as everyone may see it, full-screen,
// following what the console chooses. It needs no key and is nobody: it connects as a
// screen (docs/protocol.md), so it is never counted as a participant and can change nothing.
//
// When the connection drops it keeps showing the last state, marked "reconnecting", rather
// than going blank in front of the room; when the room is gone it says why.

import { h } from "./dom.js";
import { startRoomPage } from "./page.js";
import { ScreenView } from "./screen-view.js";
import { endReason } from "./state.js";

const ENDED = { expired: "screen.expired", deleted: "room.deleted", not_found: "screen.notFound", unauthorized: "screen.notFound" };

function fullscreenButton(t) {
  const button = h("button", { type: "button", class: "fullscreen", on: { click: () => document.documentElement.requestFullscreen?.() } }, t("screen.fullscreen"));
  const follow = () => {
    button.hidden = Boolean(document.fullscreenElement) || !document.fullscreenEnabled;
  };
  document.addEventListener("fullscreenchange", follow);
  follow();
  return button;
}

/** The page's own bar shows while the pointer moves or a key is pressed, then gets out of the way. */
function toolsOnDemand() {
  let timer = null;
  const show = () => {
    document.body.classList.add("show-tools");
    clearTimeout(timer);
    timer = setTimeout(() => document.body.classList.remove("show-tools"), TOOLS_SHOWN_MS);
  };
  for (const event of ["pointermove", "pointerdown", "keydown"]) document.addEventListener(event, show);
}

const TOOLS_SHOWN_MS = 3000;
toolsOnDemand();

startRoomPage({
  screen: true,
  bodyClass: "screen",
  title: (settings, t) => `${settings.title} – ${t("screen.title")} – Samskapa`,
  mount(room) {
    const { live, locale, frame } = room;
    const view = new ScreenView(room);
    const mark = h("p", { class: "screen-reconnecting", role: "status" });
    frame.header.querySelector(".header-tools")?.prepend(fullscreenButton(locale.t));
    frame.main.replaceChildren(view.element, mark);
    return {
      update() {
        view.update();
        const away = live.status !== "online";
        mark.hidden = !away;
        mark.textContent = away ? locale.t("screen.reconnecting") : "";
        view.element.classList.toggle("stale", away);
      },
    };
  },
  ended({ live, locale }) {
    const reason = endReason(live.state, live.finalReason);
    return h("div", { class: "screen-ended" },
      h("p", { class: "screen-ended-text" }, locale.t(ENDED[reason])),
      h("p", {}, h("a", { href: "/" }, locale.t("screen.toStart"))));
  },
});
