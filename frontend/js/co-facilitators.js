// Handing the room to another device or a co-facilitator: the facilitator link (with copy)
// and, on request, its QR code, under the warning that whoever has it controls the room,
// and how many consoles are open now.
//
// The link and its code are folded away until asked for, so that a console shown on a
// projector by mistake does not hand the room to everyone in it. The QR code comes from
// the server (app/facilitator_link.py: the token in a header, never in a URL a log would
// keep) and is shown as a data: URL, which the page's policy allows for images.

import { h } from "./dom.js";

export class CoFacilitators {
  constructor({ locale, roomId, live }, token) {
    const { t } = locale;
    this.t = t;
    this.live = live;
    this.roomId = roomId;
    this.token = token;
    // Rebuilt from the key this page holds; the server's own name for it replaces it once asked.
    this.url = `${location.origin}/r/${encodeURIComponent(roomId)}/present#token=${token}`;
    this.consoles = h("p", { class: "consoles" });
    this.link = h("input", { id: "facilitator-link", type: "text", readonly: true, value: this.url, spellcheck: "false", autocomplete: "off" });
    this.copied = h("span", { class: "muted", role: "status" });
    this.qr = h("div", { class: "facilitator-qr" });
    this.qrButton = h("button", { type: "button", on: { click: () => this.showQr() } }, t("co.showQr"));
    const details = h("details", { class: "co-facilitators" },
      h("summary", {}, t("co.heading")),
      h("p", { class: "warning" }, t("co.warning")),
      h("label", { for: "facilitator-link" }, t("co.link")),
      this.link,
      h("div", { class: "row" },
        h("button", { type: "button", on: { click: () => this.copy() } }, t("co.copy")),
        this.qrButton,
        this.copied),
      this.qr);
    this.element = h("section", { class: "co-panel", "aria-label": t("co.heading") }, this.consoles, details);
  }

  async copy() {
    this.link.select();
    try {
      await navigator.clipboard.writeText(this.link.value);
      this.copied.textContent = this.t("co.copied");
    } catch {
      // No clipboard (an insecure origin, a refused permission): the link is selected to copy by hand.
      this.copied.textContent = this.t("co.copyByHand");
    }
  }

  async showQr() {
    this.qrButton.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/facilitator-link`, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.token}` },
        cache: "no-store",
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message ?? response.statusText);
      this.url = body.facilitator_url;
      this.link.value = this.url;
      const source = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(body.qr_svg)}`;
      const hide = h("button", { type: "button", on: { click: () => this.hideQr() } }, this.t("co.hideQr"));
      this.qr.replaceChildren(
        h("img", { src: source, alt: this.t("co.qr"), width: 240, height: 240 }),
        h("p", { class: "small" }, this.t("co.qrHint")),
        hide);
      this.qrButton.hidden = true;
      hide.focus();
    } catch (error) {
      this.qr.replaceChildren(h("p", { class: "feedback" }, this.t("error.generic", { message: error.message })));
    } finally {
      this.qrButton.disabled = false;
    }
  }

  hideQr() {
    this.qr.replaceChildren();
    this.qrButton.hidden = false;
    this.qrButton.focus();
  }

  update() {
    const n = this.live.state.presence.consoles;
    this.consoles.textContent = n > 1 ? this.t("co.consoles", { n, others: n - 1 }) : this.t("co.onlyYou");
  }
}
