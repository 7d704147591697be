// Co-facilitators: links to the console, each with a key of its own that the facilitator
// makes (with an optional name), sees listed (when it was made, whether it was used) and
// revokes; and how many consoles are open now. A co-facilitator's own console shows only
// that count and what its link is: its key may not make, list or revoke links.
//
// Everything is folded away until asked for, so that a console shown on a projector by
// mistake does not hand the room to everyone in it. A new link's key exists only in the
// answer that made it (app/co_facilitators.py: the server keeps its hash); the link and,
// on request, its QR code (drawn by the server, shown as a data: URL, which the page's
// policy allows for images) are shown until hidden, and again after a change of language,
// but not after a reload.

import { h } from "./dom.js";
import { formatMoment } from "./format.js";

// The link made last on this page, per room: a change of language mounts the console anew.
const made = new Map();
// The most links a room may hold (app/co_facilitators.py), said when the server refuses another.
const MAX_LINKS = 20;

export class CoFacilitators {
  constructor({ locale, roomId, live }, token, { coFacilitator = false } = {}) {
    const { t } = locale;
    this.t = t;
    this.language = locale.language;
    this.live = live;
    this.roomId = roomId;
    this.token = token;
    this.consoles = h("p", { class: "consoles" });
    this.lastConsoles = null;
    if (coFacilitator) {
      this.element = h("section", { class: "co-panel", "aria-label": t("co.heading") },
        this.consoles, h("p", { class: "small" }, t("co.youAre")));
      return;
    }
    this.label = h("input", { id: "co-label", type: "text", maxlength: 60, autocomplete: "off", spellcheck: "false", "aria-describedby": "co-label-hint" });
    this.createButton = h("button", { type: "submit", class: "primary" }, t("co.create"));
    this.problem = h("p", { class: "feedback", role: "alert" });
    const form = h("form", { class: "co-create" },
      h("label", { for: "co-label" }, t("co.label")),
      this.label,
      h("p", { id: "co-label-hint", class: "hint" }, t("co.labelHint")),
      this.createButton);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.made = h("div", { class: "co-made" });
    this.listTitle = h("h3", { id: "co-list-title", tabindex: -1 });
    this.list = h("ul", { class: "co-list", "aria-labelledby": "co-list-title" });
    this.status = h("p", { class: "muted small", role: "status" });
    this.dialog = h("dialog", { class: "confirm", "aria-labelledby": "co-revoke-title" });
    this.details = h("details", { class: "co-facilitators" },
      h("summary", {}, t("co.heading")),
      h("p", { class: "warning" }, t("co.warning")),
      form,
      this.problem,
      this.made,
      this.listTitle,
      this.list,
      this.status);
    this.details.addEventListener("toggle", () => {
      if (this.details.open) this.refresh();
    });
    this.element = h("section", { class: "co-panel", "aria-label": t("co.heading") }, this.consoles, this.details, this.dialog);
    this.entries = null;
    const kept = made.get(roomId);
    if (kept) {
      this.details.open = true;
      this.showMade(kept, false);
    }
  }

  /** A request of the co-facilitator API with the facilitator's key; the body, or throws with the server's code. */
  async request(path, options = {}) {
    const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/co-facilitators${path}`, {
      ...options,
      headers: { Authorization: `Bearer ${this.token}`, ...(options.body ? { "Content-Type": "application/json" } : {}) },
      cache: "no-store",
    });
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({ message: response.statusText }));
    if (!response.ok) throw Object.assign(new Error(body.message ?? response.statusText), { code: body.code });
    return body;
  }

  say(error) {
    this.problem.textContent = error.code === "too_many_co_facilitators"
      ? this.t("co.full", { n: MAX_LINKS })
      : this.t("error.generic", { message: error.message });
  }

  name(entry) {
    return entry.label ?? this.t("co.unnamed");
  }

  async refresh() {
    try {
      this.entries = await this.request("");
      this.problem.textContent = "";
      this.drawList();
    } catch (error) {
      this.say(error);
    }
  }

  async create() {
    this.createButton.disabled = true;
    this.problem.textContent = "";
    try {
      const label = this.label.value.trim();
      const entry = await this.request("", { method: "POST", body: JSON.stringify({ label: label || null }) });
      made.set(this.roomId, entry);
      this.label.value = "";
      this.showMade(entry, true);
      await this.refresh();
    } catch (error) {
      this.say(error);
    } finally {
      this.createButton.disabled = false;
    }
  }

  /** The new link, its copy button and its QR code on request; `focus` takes the focus there. */
  showMade(entry, focus) {
    const { t } = this;
    const title = h("h3", { id: "co-made-title", tabindex: -1 }, entry.label ? t("co.madeFor", { name: entry.label }) : t("co.made"));
    const link = h("input", { id: "co-link", type: "text", readonly: true, value: entry.link, spellcheck: "false", autocomplete: "off" });
    const copied = h("span", { class: "muted", role: "status" });
    const qr = h("div", { class: "facilitator-qr" });
    const qrButton = h("button", { type: "button" }, t("co.showQr"));
    const source = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(entry.qr_svg)}`;
    const hideQr = h("button", { type: "button" }, t("co.hideQr"));
    qrButton.addEventListener("click", () => {
      qr.replaceChildren(
        h("img", { src: source, alt: t("co.qr"), width: 240, height: 240 }),
        h("p", { class: "small" }, t("co.qrHint")),
        hideQr);
      qrButton.hidden = true;
      hideQr.focus();
    });
    hideQr.addEventListener("click", () => {
      qr.replaceChildren();
      qrButton.hidden = false;
      qrButton.focus();
    });
    const copy = h("button", { type: "button" }, t("co.copy"));
    copy.addEventListener("click", async () => {
      link.select();
      try {
        await navigator.clipboard.writeText(link.value);
        copied.textContent = t("co.copied");
      } catch {
        // No clipboard (an insecure origin, a refused permission): the link is selected to copy by hand.
        copied.textContent = t("co.copyByHand");
      }
    });
    const hide = h("button", { type: "button" }, t("co.hideLink"));
    hide.addEventListener("click", () => {
      made.delete(this.roomId);
      this.made.replaceChildren();
      this.label.focus();
    });
    this.made.replaceChildren(h("section", { class: "co-new", "aria-labelledby": "co-made-title" },
      title,
      h("p", { class: "small" }, t("co.onlyNow")),
      h("label", { for: "co-link" }, t("co.link")),
      link,
      h("div", { class: "row" }, copy, qrButton, hide, copied),
      qr));
    if (focus) title.focus();
  }

  drawList() {
    const { t } = this;
    const entries = this.entries ?? [];
    this.listTitle.textContent = entries.length ? t("co.list", { n: entries.length }) : t("co.none");
    this.list.hidden = !entries.length;
    this.list.replaceChildren(...entries.map((entry) => {
      const revoke = h("button", { type: "button", class: "danger", "aria-label": t("co.revokeLabel", { name: this.name(entry) }) }, t("co.revoke"));
      revoke.addEventListener("click", () => this.confirmRevoke(entry));
      return h("li", { class: "co-entry", dataset: { id: entry.id } },
        h("div", { class: "co-about" },
          h("span", { class: "co-name" }, this.name(entry)),
          h("span", { class: "co-meta" },
            t("co.created", { time: formatMoment(entry.created_at, this.language) }),
            " · ",
            h("span", { class: entry.used_at ? "co-used" : "co-unused" }, t(entry.used_at ? "co.used" : "co.unused")))),
        revoke);
    }));
  }

  confirmRevoke(entry) {
    const { t } = this;
    const name = this.name(entry);
    this.dialog.replaceChildren(
      h("h2", { id: "co-revoke-title" }, t("co.revokeTitle", { name })),
      h("p", {}, t("co.revokeConfirm", { name })),
      h("form", { method: "dialog", class: "row" },
        h("button", { type: "submit", value: "cancel" }, t("note.cancel")),
        h("button", { type: "submit", value: "revoke", class: "danger" }, t("co.revokeYes"))));
    this.dialog.onclose = () => {
      if (this.dialog.returnValue === "revoke") this.revoke(entry);
    };
    this.dialog.returnValue = "";
    this.dialog.showModal();
  }

  async revoke(entry) {
    try {
      await this.request(`/${encodeURIComponent(entry.id)}`, { method: "DELETE" });
      if (made.get(this.roomId)?.id === entry.id) {
        made.delete(this.roomId);
        this.made.replaceChildren();
      }
      this.status.textContent = this.t("co.revoked", { name: this.name(entry) });
    } catch (error) {
      this.say(error);
    }
    await this.refresh();
    // Its button is gone: the focus goes to the list it was in, not to the page's top.
    this.listTitle.focus();
  }

  update() {
    const n = this.live.state.presence.consoles;
    this.consoles.textContent = n > 1 ? this.t("co.consoles", { n, others: n - 1 }) : this.t("co.onlyYou");
    // A console came or went: perhaps a link was used just now. Asked only while the list is open.
    if (this.details?.open && this.lastConsoles !== null && n !== this.lastConsoles) this.refresh();
    this.lastConsoles = n;
  }
}
