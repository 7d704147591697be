// The documentation board: areas and columns of sticky notes; add, edit, delete, dot-vote,
// and move by drag and drop (mouse and touch, via pointer events) or by a keyboard menu.

import { h, syncChildren } from "./dom.js";
import { pickText } from "./i18n.js";
import { canChange, notesIn } from "./state.js";

const COLORS = ["yellow", "pink", "blue", "green", "orange", "purple"];
const MAX_TEXT = 500;
const DRAG_THRESHOLD_PX = 6;

export class Board {
  /**
   * @param {HTMLElement} root
   * @param {import("./connection.js").LiveConnection} live
   * @param {{t: Function, language: string}} locale
   * @param {{compact?: boolean, readOnly?: boolean}} options
   */
  constructor(root, live, locale, options = {}) {
    this.root = root;
    this.live = live;
    this.locale = locale;
    this.options = options;
    this.cards = new Map();
    this.lists = new Map();
    this.editing = new Set();
    this.moveDialog = null;
    this.build();
  }

  get t() {
    return this.locale.t;
  }

  text(localized) {
    return pickText(localized, this.locale.language, this.live.state.template.languages);
  }

  build() {
    const { template } = this.live.state;
    this.root.replaceChildren();
    this.lists.clear();
    this.cards.clear();
    const free = template.areas.filter((area) => area.kind === "area");
    const columns = template.areas.filter((area) => area.kind === "column");
    const section = (areas, className) =>
      h("div", { class: className }, areas.map((area) => this.buildArea(area)));
    this.root.append(section(free, "areas"));
    if (columns.length) this.root.append(section(columns, "columns"));
    this.moveDialog = h("dialog", { class: "move-dialog", "aria-labelledby": "move-dialog-title" });
    this.root.append(this.moveDialog);
    this.update();
  }

  buildArea(area) {
    const titleId = `area-${area.id}-title`;
    const list = h("ol", { class: "notes", "aria-labelledby": titleId, dataset: { area: area.id } });
    this.lists.set(area.id, list);
    const form = this.options.readOnly ? null : this.addForm(area);
    return h(
      "section",
      { class: ["area", `area-${area.kind}`], dataset: { area: area.id } },
      h(
        "header",
        {},
        area.prompt ? h("p", { class: "prompt" }, this.text(area.prompt)) : null,
        h("h3", { id: titleId }, this.text(area.title)),
        area.hint ? h("p", { class: "hint" }, this.text(area.hint)) : null,
      ),
      list,
      form,
    );
  }

  addForm(area) {
    const id = `new-note-${area.id}`;
    const textarea = h("textarea", { id, rows: 2, maxlength: MAX_TEXT, required: true });
    const counter = h("span", { class: "counter", "aria-live": "off" });
    const color = this.colorSelect(`${id}-color`, "yellow");
    const statement = this.statementSelect(`${id}-statement`, null);
    const form = h(
      "form",
      { class: "add-note" },
      h("label", { for: id }, this.t("note.addTo", { area: this.text(area.title) })),
      textarea,
      h("div", { class: "row" }, h("label", { for: statement.id, class: "small" }, this.t("note.statement")), statement),
      h("div", { class: "row" }, h("label", { for: color.id, class: "small" }, this.t("note.color")), color, counter,
        h("button", { type: "submit" }, this.t("note.add"))),
    );
    textarea.addEventListener("input", () => {
      counter.textContent = this.counterText(textarea.value);
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (!text || text.length > MAX_TEXT) return;
      const command = { type: "add_note", area_id: area.id, text, color: color.value };
      if (statement.value) command.statement_id = statement.value;
      this.live.send(command);
      textarea.value = "";
      counter.textContent = "";
      textarea.focus();
    });
    return form;
  }

  counterText(value) {
    const left = MAX_TEXT - value.trim().length;
    return left < 0 ? this.t("note.tooLong", { n: -left }) : left < 100 ? this.t("note.charsLeft", { n: left }) : "";
  }

  /** Which statement a note is about: the statements by number and left pole, or none. */
  statementSelect(id, current) {
    const statements = this.live.state.template.statements;
    return h(
      "select",
      { id, class: "statement-select" },
      h("option", { value: "" }, this.t("note.noStatement")),
      statements.map((statement, index) =>
        h("option", { value: statement.id, selected: statement.id === current }, `${index + 1}. ${this.text(statement.left)}`),
      ),
    );
  }

  statementNumber(statementId) {
    return this.live.state.template.statements.findIndex((statement) => statement.id === statementId) + 1;
  }

  colorSelect(id, current) {
    return h(
      "select",
      { id },
      COLORS.map((color) => h("option", { value: color, selected: color === current }, this.t(`color.${color}`))),
    );
  }

  /** Bring the lists in line with the state, keeping elements (and focus) where possible. */
  update() {
    const state = this.live.state;
    const seen = new Set();
    for (const [areaId, list] of this.lists) {
      const notes = notesIn(state, areaId);
      const wanted = notes.map((note) => {
        seen.add(note.id);
        return this.card(note);
      });
      for (const pending of this.live.outbox.pendingNotes().filter((c) => c.area_id === areaId)) {
        wanted.push(this.pendingCard(pending));
      }
      if (!wanted.length) wanted.push(h("li", { class: "empty muted" }, this.t("note.empty")));
      syncChildren(list, wanted);
    }
    for (const id of [...this.cards.keys()]) {
      if (!seen.has(id)) this.cards.delete(id);
    }
  }

  pendingCard(command) {
    return h(
      "li",
      { class: ["note", `note-${command.color ?? "yellow"}`, "pending"], dataset: { cid: command.cid } },
      h("p", { class: "note-text" }, command.text),
      h("p", { class: "note-meta" }, this.t("note.pending")),
    );
  }

  card(note) {
    const known = this.cards.get(note.id);
    if (known && this.editing.has(note.id)) return known.element;
    const state = this.live.state;
    const signature = JSON.stringify([note.version, note.votes, note.author_name, note.statement_id, state.myVotes.has(note.id), this.locale.language]);
    if (known && known.signature === signature) return known.element;
    const element = known?.element ?? h("li", { class: "note", dataset: { note: note.id } });
    element.className = `note note-${note.color}`;
    const mine = state.you && note.author_id === state.you.participant_id;
    const byline = note.author_name ? this.t("note.by", { name: note.author_name }) : mine ? this.t("note.mine") : "";
    const voted = state.myVotes.has(note.id);
    const actions = [];
    if (!this.options.readOnly) {
      actions.push(
        h("button", {
          type: "button",
          class: "vote",
          "aria-pressed": voted ? "true" : "false",
          "aria-label": `${this.t("note.vote")} (${this.t("note.votes", { n: note.votes })})`,
          on: { click: () => this.live.send({ type: "vote_note", note_id: note.id, voted: !voted }) },
        }, h("span", { "aria-hidden": "true" }, voted ? "● " : "○ "), String(note.votes)),
      );
      if (canChange(state, note)) {
        actions.push(
          h("button", { type: "button", on: { click: () => this.startEdit(note.id) } }, this.t("note.edit")),
          h("button", { type: "button", on: { click: () => this.openMoveMenu(note.id) } }, this.t("note.move")),
          h("button", { type: "button", class: "danger", on: { click: () => this.live.send({ type: "delete_note", note_id: note.id }) } }, this.t("note.delete")),
        );
      }
    } else if (note.votes) {
      actions.push(h("span", { class: "votes" }, this.t("note.votes", { n: note.votes })));
    }
    const parts = [h("p", { class: "note-text" }, note.text)];
    if (note.statement_id) parts.push(h("p", { class: "note-link" }, `↔ ${this.t("note.linked", { n: this.statementNumber(note.statement_id) })}`));
    if (byline) parts.push(h("p", { class: "note-meta" }, byline));
    if (actions.length) parts.push(h("div", { class: "note-actions" }, actions));
    element.replaceChildren(...parts);
    if (!this.options.readOnly && canChange(state, note)) this.enableDrag(element, note.id);
    this.cards.set(note.id, { element, signature });
    return element;
  }

  startEdit(noteId) {
    const note = this.live.state.notes.get(noteId);
    const entry = this.cards.get(noteId);
    if (!note || !entry) return;
    this.editing.add(noteId);
    const id = `edit-${noteId}`;
    const textarea = h("textarea", { id, rows: 3, maxlength: MAX_TEXT }, note.text);
    const color = this.colorSelect(`${id}-color`, note.color);
    const statement = this.statementSelect(`${id}-statement`, note.statement_id);
    const finish = () => {
      this.editing.delete(noteId);
      this.cards.delete(noteId);
      this.update();
      this.cards.get(noteId)?.element.querySelector("button:not(.vote)")?.focus();
    };
    const form = h(
      "form",
      { class: "edit-note" },
      h("label", { for: id, class: "visually-hidden" }, this.t("note.text")),
      textarea,
      h("div", { class: "row" }, h("label", { for: statement.id, class: "small" }, this.t("note.statement")), statement),
      h("div", { class: "row" },
        h("label", { for: color.id, class: "small" }, this.t("note.color")), color,
        h("button", { type: "submit" }, this.t("note.save")),
        h("button", { type: "button", on: { click: finish } }, this.t("note.cancel"))),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (text && text.length <= MAX_TEXT) {
        this.live.send({ type: "edit_note", note_id: noteId, text, color: color.value, statement_id: statement.value || null });
      }
      finish();
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Escape") finish();
    });
    entry.element.replaceChildren(form);
    textarea.focus();
  }

  openMoveMenu(noteId) {
    const state = this.live.state;
    const note = state.notes.get(noteId);
    if (!note) return;
    const dialog = this.moveDialog;
    const siblings = notesIn(state, note.area_id);
    const index = siblings.findIndex((n) => n.id === noteId);
    const move = (areaId, toIndex) => {
      this.live.send({ type: "move_note", note_id: noteId, area_id: areaId, index: toIndex });
      dialog.close();
    };
    const options = [];
    if (index > 0) options.push(h("button", { type: "button", on: { click: () => move(note.area_id, index - 1) } }, this.t("note.moveUp")));
    if (index < siblings.length - 1) options.push(h("button", { type: "button", on: { click: () => move(note.area_id, index + 1) } }, this.t("note.moveDown")));
    for (const area of state.template.areas) {
      if (area.id === note.area_id) continue;
      options.push(h("button", { type: "button", on: { click: () => move(area.id, notesIn(state, area.id).length) } }, this.t("note.moveTo", { area: this.text(area.title) })));
    }
    dialog.replaceChildren(
      h("h2", { id: "move-dialog-title" }, `${this.t("note.move")} “${note.text.slice(0, 60)}”`),
      h("div", { class: "move-options" }, options),
      h("form", { method: "dialog" }, h("button", { type: "submit" }, this.t("note.cancel"))),
    );
    dialog.addEventListener("close", () => this.cards.get(noteId)?.element.querySelector("button")?.focus(), { once: true });
    dialog.showModal();
  }

  enableDrag(element, noteId) {
    if (element.dataset.draggable) return;
    element.dataset.draggable = "yes";
    element.addEventListener("pointerdown", (down) => {
      if (down.button !== 0 || down.target.closest("button, textarea, select, a, input")) return;
      let ghost = null;
      const start = { x: down.clientX, y: down.clientY };
      const moveHandler = (event) => {
        if (!ghost && Math.hypot(event.clientX - start.x, event.clientY - start.y) < DRAG_THRESHOLD_PX) return;
        event.preventDefault();
        if (!ghost) {
          ghost = element.cloneNode(true);
          ghost.classList.add("drag-ghost");
          ghost.setAttribute("aria-hidden", "true");
          ghost.style.width = `${element.offsetWidth}px`;
          document.body.append(ghost);
          element.classList.add("dragging");
        }
        ghost.style.transform = `translate(${event.clientX - 20}px, ${event.clientY - 20}px)`;
        this.highlightDrop(event.clientX, event.clientY);
      };
      const upHandler = (event) => {
        element.removeEventListener("pointermove", moveHandler);
        element.removeEventListener("pointerup", upHandler);
        element.removeEventListener("pointercancel", upHandler);
        if (!ghost) return;
        ghost.remove();
        element.classList.remove("dragging");
        const target = this.dropTarget(event.clientX, event.clientY);
        this.highlightDrop(null);
        if (target && event.type === "pointerup") {
          this.live.send({ type: "move_note", note_id: noteId, area_id: target.areaId, index: target.index });
        }
      };
      element.setPointerCapture(down.pointerId);
      element.addEventListener("pointermove", moveHandler);
      element.addEventListener("pointerup", upHandler);
      element.addEventListener("pointercancel", upHandler);
    });
  }

  dropTarget(clientX, clientY) {
    for (const [areaId, list] of this.lists) {
      const box = list.closest(".area").getBoundingClientRect();
      if (clientX < box.left || clientX > box.right || clientY < box.top || clientY > box.bottom) continue;
      const cards = [...list.querySelectorAll(".note:not(.dragging):not(.pending)")];
      let index = cards.length;
      for (const [position, card] of cards.entries()) {
        const rect = card.getBoundingClientRect();
        if (clientY < rect.top + rect.height / 2) {
          index = position;
          break;
        }
      }
      return { areaId, index };
    }
    return null;
  }

  highlightDrop(clientX, clientY) {
    const target = clientX === null ? null : this.dropTarget(clientX, clientY);
    for (const [areaId, list] of this.lists) {
      list.closest(".area").classList.toggle("drop-target", target?.areaId === areaId);
    }
  }
}

