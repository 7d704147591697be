// The documentation board: areas and columns of sticky notes; add, edit, delete (with undo),
// dot-vote, and move by dragging (see drag.js) or with the "Flytta…" dialog.
//
// The focus rules: after your own action the focus is where you would look next (the note
// you just saved, the note after one you deleted, the moved note in its new column); what
// others do never moves it, not even when they move or vote on the note it is on.

import { h, keepFocus, syncChildren } from "./dom.js";
import { enableDrag } from "./drag.js";
import { pickText } from "./i18n.js";
import { COLORS, MAX_TEXT, NoteCard, excerpt } from "./note-card.js";
import { canChange, neighbourOf, notesIn, sortedByVotes, votesLeft } from "./state.js";
import { Undoable } from "./undo.js";

export class Board {
  /**
   * @param {HTMLElement} root
   * @param {import("./connection.js").LiveConnection} live
   * @param {{t: Function, language: string}} locale
   * @param {{readOnly?: boolean}} options
   */
  constructor(root, live, locale, options = {}) {
    this.root = root;
    this.live = live;
    this.locale = locale;
    this.options = options;
    this.cards = new Map();
    this.lists = new Map();
    this.forms = new Map(); // area -> its "new note" textarea
    this.undoItems = new Map();
    this.follow = null; // { noteId, version }: a note you moved, to keep in view where it lands
    this.deletes = new Undoable((noteId) => {
      this.live.send({ type: "delete_note", note_id: noteId });
      this.status.textContent = "";
    });
    // Leaving the page commits what could still be undone: the outbox keeps it until it is sent.
    window.addEventListener("pagehide", () => this.deletes.flush());
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
    const free = template.areas.filter((area) => area.kind === "area");
    const columns = template.areas.filter((area) => area.kind === "column");
    const section = (areas, className) =>
      h("div", { class: className }, areas.map((area) => this.buildArea(area)));
    if (!this.options.readOnly) this.root.append(this.buildVoting());
    this.root.append(section(free, "areas"));
    if (columns.length) this.root.append(section(columns, "columns"));
    this.moveDialog = h("dialog", { class: "move-dialog", "aria-labelledby": "move-dialog-title" });
    this.status = h("p", { class: "visually-hidden", role: "status" });
    this.root.append(this.moveDialog, this.status);
    this.update();
  }

  /**
   * Above the notes: what is left of your votes (when the room limits them), and for whoever
   * runs the room the choice of order, which every board and the room's screen follow.
   */
  buildVoting() {
    const { t } = this;
    this.votesLeft = h("p", { class: "votes-left", role: "status", hidden: true });
    const order = (value, label) =>
      h("button", { type: "button", dataset: { order: value }, on: { click: () => this.live.send({ type: "update_room", note_order: value }) } }, label);
    this.orderButtons = [order("position", t("board.orderPosition")), order("votes", t("board.orderVotes"))];
    this.orderChoice = h("div", { class: "note-order", role: "group", "aria-label": t("board.order"), hidden: true }, this.orderButtons);
    return h("div", { class: "voting-bar" }, this.votesLeft, this.orderChoice);
  }

  updateVoting() {
    if (!this.votesLeft) return;
    const state = this.live.state;
    const left = votesLeft(state);
    this.votesLeft.hidden = left === null;
    const text = left === null ? "" : left ? this.t("board.votesLeft", { n: left }) : this.t("board.votesSpent");
    if (this.votesLeft.textContent !== text) this.votesLeft.textContent = text;
    this.orderChoice.hidden = state.you?.role !== "facilitator";
    const current = sortedByVotes(state) ? "votes" : "position";
    for (const button of this.orderButtons) button.setAttribute("aria-pressed", String(button.dataset.order === current));
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
    this.forms.set(area.id, textarea);
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
      // The next note starts afresh: unlinked and yellow, not as the last one was.
      form.reset();
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
      h("option", { value: "", selected: !current }, this.t("note.noStatement")),
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

  /** A note on its way out: not shown while its delete can be undone or is being sent. */
  leaving(noteId) {
    return this.live.outbox.items.some((command) => command.type === "delete_note" && command.note_id === noteId);
  }

  /** Bring the lists in line with the state, keeping elements (and so the focus) where they are. */
  update() {
    const focused = this.focusedNote();
    this.updateVoting();
    const kept = keepFocus(this.root, () => this.sync());
    // The note the focus was on is gone (someone deleted it): stay in its place in the list.
    if (!kept && focused) this.focusInArea(focused.areaId, focused.index);
    this.keepMovedInView();
  }

  sync() {
    const state = this.live.state;
    const seen = new Set();
    for (const [areaId, list] of this.lists) {
      const wanted = [];
      for (const note of notesIn(state, areaId)) {
        seen.add(note.id);
        if (this.leaving(note.id)) continue;
        wanted.push(this.deletes.has(note.id) ? this.undoItem(note) : this.card(note).element);
      }
      for (const pending of this.live.outbox.pendingNotes().filter((c) => c.area_id === areaId)) {
        wanted.push(this.pendingCard(pending));
      }
      if (!wanted.length) wanted.push(h("li", { class: "empty muted" }, this.t("note.empty")));
      syncChildren(list, wanted);
    }
    for (const id of [...this.cards.keys()]) {
      if (!seen.has(id)) this.cards.delete(id);
    }
    for (const id of [...this.undoItems.keys()]) {
      if (!this.deletes.has(id)) this.undoItems.delete(id);
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
    const state = this.live.state;
    let card = this.cards.get(note.id);
    if (!card) {
      card = new NoteCard(note.id, {
        locale: this.locale,
        readOnly: Boolean(this.options.readOnly),
        actions: {
          vote: (id) => this.vote(id),
          edit: (id) => this.startEdit(id),
          move: (id) => this.openMoveMenu(id),
          remove: (id) => this.remove(id),
        },
      });
      this.cards.set(note.id, card);
      if (!this.options.readOnly) {
        enableDrag(card.element, card.handle, {
          enabled: () => !card.editing && !sortedByVotes(this.live.state) && canChange(this.live.state, this.live.state.notes.get(note.id) ?? {}),
          targetAt: (x, y) => this.dropTarget(x, y),
          highlight: (target) => this.highlightDrop(target),
          drop: (target) => this.move(note.id, target.areaId, target.index),
        });
      }
    }
    const mine = state.you && note.author_id === state.you.participant_id;
    card.update(note, {
      byline: note.author_name ? this.t("note.by", { name: note.author_name }) : mine ? this.t("note.mine") : "",
      voted: state.myVotes.has(note.id),
      changeable: canChange(state, note),
      movable: canChange(state, note) && !sortedByVotes(state),
      statementNumber: note.statement_id ? this.statementNumber(note.statement_id) : null,
    });
    return card;
  }

  /** Where a deleted note was, for the seconds it can be brought back. */
  undoItem(note) {
    let item = this.undoItems.get(note.id);
    if (!item) {
      const name = excerpt(note.text);
      const button = h("button", { type: "button", "aria-label": this.t("note.undoLabel", { text: name }), on: { click: () => this.undo(note.id) } }, this.t("note.undo"));
      item = h("li", { class: "note-removed", dataset: { removed: note.id } }, h("span", {}, this.t("note.removed")), button);
      this.undoItems.set(note.id, item);
    }
    return item;
  }

  vote(noteId) {
    this.live.send({ type: "vote_note", note_id: noteId, voted: !this.live.state.myVotes.has(noteId) });
  }

  startEdit(noteId) {
    const note = this.live.state.notes.get(noteId);
    const card = this.cards.get(noteId);
    if (!note || !card || card.editing) return;
    card.startEdit(note, {
      colorSelect: (id, current) => this.colorSelect(id, current),
      statementSelect: (id, current) => this.statementSelect(id, current),
      save: (fields) => this.live.send({ type: "edit_note", note_id: noteId, ...fields }),
    });
  }

  move(noteId, areaId, index) {
    const note = this.live.state.notes.get(noteId);
    if (!note) return;
    this.follow = { noteId, version: note.version };
    this.live.send({ type: "move_note", note_id: noteId, area_id: areaId, index });
  }

  /** Once your moved note has landed, bring it into view (the focus on it never left). */
  keepMovedInView() {
    if (!this.follow) return;
    const note = this.live.state.notes.get(this.follow.noteId);
    if (note && note.version === this.follow.version) return;
    const card = this.cards.get(this.follow.noteId);
    this.follow = null;
    card?.element.scrollIntoView({ block: "nearest" });
  }

  /** Delete, undoable for a few seconds: until then only this page knows. */
  remove(noteId) {
    const state = this.live.state;
    const note = state.notes.get(noteId);
    if (!note) return;
    const next = neighbourOf(notesIn(state, note.area_id).filter((n) => !this.deletes.has(n.id) && !this.leaving(n.id)), noteId);
    this.deletes.start(noteId, note);
    this.update();
    this.status.textContent = this.t("note.removedStatus", { text: excerpt(note.text) });
    if (next) this.cards.get(next.id)?.focus();
    else this.undoItems.get(noteId)?.querySelector("button")?.focus();
  }

  undo(noteId) {
    if (!this.deletes.undo(noteId)) return;
    this.update();
    this.status.textContent = this.t("note.restored");
    this.cards.get(noteId)?.deleteButton.focus();
  }

  /** The note the focus is on, and where: to stay in its place if it disappears. */
  focusedNote() {
    const item = document.activeElement?.closest?.("ol.notes > li");
    if (!item || !this.root.contains(item)) return null;
    const list = item.parentElement;
    return { areaId: list.dataset.area, index: [...list.children].indexOf(item) };
  }

  focusInArea(areaId, index) {
    const list = this.lists.get(areaId);
    const items = [...list.children];
    const item = items[index] ?? items[index - 1];
    const target = item?.querySelector("button") ?? this.forms.get(areaId);
    target?.focus({ preventScroll: true });
  }

  openMoveMenu(noteId) {
    const state = this.live.state;
    const note = state.notes.get(noteId);
    if (!note) return;
    const dialog = this.moveDialog;
    const siblings = notesIn(state, note.area_id);
    const index = siblings.findIndex((n) => n.id === noteId);
    const choose = (areaId, toIndex) => {
      this.move(noteId, areaId, toIndex);
      dialog.close();
    };
    const options = [];
    if (index > 0) options.push(h("button", { type: "button", on: { click: () => choose(note.area_id, index - 1) } }, this.t("note.moveUp")));
    if (index < siblings.length - 1) options.push(h("button", { type: "button", on: { click: () => choose(note.area_id, index + 1) } }, this.t("note.moveDown")));
    for (const area of state.template.areas) {
      if (area.id === note.area_id) continue;
      options.push(h("button", { type: "button", on: { click: () => choose(area.id, notesIn(state, area.id).length) } }, this.t("note.moveTo", { area: this.text(area.title) })));
    }
    dialog.replaceChildren(
      h("h2", { id: "move-dialog-title" }, `${this.t("note.move")} “${excerpt(note.text)}”`),
      h("div", { class: "move-options" }, options),
      h("form", { method: "dialog" }, h("button", { type: "submit" }, this.t("note.cancel"))),
    );
    // Back to the note's own "Flytta…", which stays on the note wherever it lands.
    dialog.addEventListener("close", () => this.cards.get(noteId)?.moveButton.focus(), { once: true });
    dialog.showModal();
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

  highlightDrop(target) {
    for (const [areaId, list] of this.lists) {
      list.closest(".area").classList.toggle("drop-target", target?.areaId === areaId);
    }
  }
}
