// The board on its own, for a second screen: every note, live, large. The facilitator's
// token (if this browser has it) or this browser's participant identity is used.

import { Board } from "./board.js";
import { frameThrottle, h } from "./dom.js";
import { LiveConnection } from "./connection.js";
import { loadLocale, storedLanguage } from "./locale.js";
import { endedMessage, pageFrame, renderStatus, roomIdFromPath, startTimer } from "./page.js";

const roomId = roomIdFromPath();
const token = localStorage.getItem(`samskapa:facilitator:${roomId}`);
let locale = await loadLocale();
const live = new LiveConnection({ roomId, token }).start();
let frame = null;
let board = null;
let timer = null;

function build() {
  frame = pageFrame(locale, async (language) => {
    locale = await loadLocale(language);
    build();
  });
  document.body.classList.add("board-screen");
  clearInterval(timer);
  timer = startTimer(frame, live, locale.t);
  board = null;
  render();
}

function render() {
  if (!frame) return;
  renderStatus(frame, live, locale.t);
  if (live.status === "ended" || live.state.deleted) {
    frame.main.replaceChildren(h("p", { class: "lead" }, endedMessage(live, locale.t)));
    board = null;
    return;
  }
  if (!live.state.settings) return;
  frame.title.textContent = live.state.settings.title;
  document.title = `${live.state.settings.title} – ${locale.t("board.heading")} – Samskapa`;
  if (!board) {
    const root = h("section", { class: "board", "aria-labelledby": "board-title" });
    frame.main.replaceChildren(h("h2", { id: "board-title" }, locale.t("board.heading")), root);
    board = new Board(root, live, locale, { readOnly: true });
  }
  board.update();
}

live.addEventListener("change", frameThrottle(render));
// Until someone picks a language, a room page speaks the room's language.
live?.addEventListener("message", async ({ detail: message }) => {
  const wanted = live.state.settings?.language;
  if (message.type === "welcome" && !storedLanguage() && wanted && wanted !== locale.language) {
    locale = await loadLocale(wanted);
    build();
  }
});
build();
