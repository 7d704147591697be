// The board on its own, for a second screen: every note, live, large. The facilitator's
// token (if this browser has it) or this browser's participant identity is used.

import { Board } from "./board.js";
import { h } from "./dom.js";
import { roomIdFromPath, startRoomPage } from "./page.js";

startRoomPage({
  token: localStorage.getItem(`samskapa:facilitator:${roomIdFromPath()}`),
  bodyClass: "board-screen",
  title: (settings, t) => `${settings.title} – ${t("board.heading")} – Samskapa`,
  mount({ live, locale, frame }) {
    const root = h("section", { class: "board", "aria-labelledby": "board-title" });
    frame.main.replaceChildren(h("h2", { id: "board-title" }, locale.t("board.heading")), root);
    return new Board(root, live, locale, { readOnly: true });
  },
});
