// The board on its own, for a second screen: every note, live, large. It connects as a
// screen (docs/protocol.md): read-only, with no identity, so a board on the wall is never
// counted as a participant and needs no key.

import { Board } from "./board.js";
import { h } from "./dom.js";
import { startRoomPage } from "./page.js";

startRoomPage({
  screen: true,
  bodyClass: "board-screen",
  title: (settings, t) => `${settings.title} – ${t("board.heading")} – Samskapa`,
  mount({ live, locale, frame }) {
    const root = h("section", { class: "board", "aria-labelledby": "board-title" });
    frame.main.replaceChildren(h("h2", { id: "board-title" }, locale.t("board.heading")), root);
    return new Board(root, live, locale, { readOnly: true });
  },
});
