// The screen's "how to join" view: the join code, the QR code and how many have answered,
// as large as a projector allows. It never shows a figure: this is what the room looks at
// while it grades blind.

import { h } from "./dom.js";
import { answeredText, spacedCode } from "./screen-parts.js";

export class CodeView {
  constructor({ live, locale, roomId }) {
    const { t } = locale;
    this.live = live;
    this.t = t;
    this.code = h("p", { class: "screen-join-code" });
    this.answered = h("p", { class: "screen-answered" });
    this.round = h("p", { class: "screen-round" });
    this.element = h("section", { class: "screen-code" },
      h("div", { class: "screen-code-text" },
        h("h2", { class: "screen-join-how" }, t("pr.joinAt", { host: location.host })),
        this.code,
        this.answered,
        this.round),
      h("img", { class: "screen-qr", src: `/api/rooms/${encodeURIComponent(roomId)}/qr.svg`, alt: t("pr.qr"), width: 520, height: 520 }));
  }

  update() {
    const state = this.live.state;
    this.code.textContent = spacedCode(state.settings.join_code);
    this.code.setAttribute("aria-label", `${this.t("pr.code")} ${state.settings.join_code.split("").join(" ")}`);
    this.answered.textContent = answeredText(state, this.t);
    this.round.hidden = state.settings.round < 2;
    this.round.textContent = this.t("round.label", { n: state.settings.round });
  }
}
