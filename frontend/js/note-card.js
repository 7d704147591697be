// One note on the board. Its elements are made once and then changed in place (text, votes,
// the names of its buttons), so that a vote, an edit or a move by anyone never replaces the
// button someone has the keyboard focus on. Every button names its note, so that "Ta bort"
// among twenty says which note it removes.

import { h } from "./dom.js";

const EXCERPT = 60;
export const COLORS = ["yellow", "pink", "blue", "green", "orange", "purple"];
export const MAX_TEXT = 500;

/** A note's text as a button names it: on one line, and not too long to listen to. */
export function excerpt(text) {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > EXCERPT ? `${line.slice(0, EXCERPT - 1)}…` : line;
}

export class NoteCard {
  /**
   * @param {object} options
   * @param {{t: Function}} options.locale
   * @param {boolean} options.readOnly
   * @param {{vote: Function, edit: Function, move: Function, remove: Function}} options.actions
   */
  constructor(noteId, { locale, readOnly, actions }) {
    const { t } = locale;
    this.noteId = noteId;
    this.t = t;
    this.readOnly = readOnly;
    this.text = h("p", { class: "note-text" });
    this.link = h("p", { class: "note-link" });
    this.meta = h("p", { class: "note-meta" });
    this.votes = h("span", { class: "votes" });
    this.voteButton = h("button", { type: "button", class: "vote", on: { click: () => actions.vote(noteId) } });
    this.editButton = h("button", { type: "button", class: "edit", on: { click: () => actions.edit(noteId) } }, t("note.edit"));
    this.moveButton = h("button", { type: "button", class: "move", "aria-haspopup": "dialog", on: { click: () => actions.move(noteId) } }, t("note.move"));
    this.deleteButton = h("button", { type: "button", class: "danger remove", on: { click: () => actions.remove(noteId) } }, t("note.delete"));
    // Dragging is for a pointer; "Flytta…" is the same for everyone, so the handle is hidden
    // from assistive technology and out of the tab order.
    this.handle = h("span", { class: "drag-handle", "aria-hidden": "true", title: t("note.dragHint") }, "⠿");
    this.actions = h("div", { class: "note-actions" },
      readOnly ? this.votes : [this.voteButton, this.editButton, this.moveButton, this.deleteButton, this.handle]);
    this.view = h("div", { class: "note-view" }, this.text, this.link, this.meta, this.actions);
    this.element = h("li", { class: "note", dataset: { note: noteId } }, this.view);
    this.shown = null;
  }

  /** Bring the card in line with the note; `mine`, `voted`, `changeable` as the viewer sees them. */
  update(note, { byline, voted, changeable, statementNumber, movable = changeable }) {
    const { t } = this;
    const signature = JSON.stringify([note.version, note.votes, note.color, byline, voted, changeable, statementNumber, movable]);
    if (signature === this.shown) return;
    this.shown = signature;
    this.element.className = `note note-${note.color}`;
    this.text.textContent = note.text;
    this.link.hidden = !note.statement_id;
    this.link.textContent = note.statement_id ? `↔ ${t("note.linked", { n: statementNumber })}` : "";
    this.meta.hidden = !byline;
    this.meta.textContent = byline;
    const votes = t("note.votes", { n: note.votes });
    if (this.readOnly) {
      this.votes.hidden = !note.votes;
      this.votes.textContent = votes;
      return;
    }
    const name = excerpt(note.text);
    this.voteButton.setAttribute("aria-pressed", String(voted));
    this.voteButton.setAttribute("aria-label", t("note.voteFor", { text: name, votes }));
    this.voteButton.replaceChildren(h("span", { "aria-hidden": "true" }, voted ? "● " : "○ "), String(note.votes));
    this.editButton.setAttribute("aria-label", t("note.editLabel", { text: name }));
    this.moveButton.setAttribute("aria-label", t("note.moveLabel", { text: name }));
    this.deleteButton.setAttribute("aria-label", t("note.deleteLabel", { text: name }));
    for (const control of [this.editButton, this.deleteButton]) control.hidden = !changeable;
    // Sorted by votes, a place in the list is the note's rank, not where it was put.
    for (const control of [this.moveButton, this.handle]) control.hidden = !movable;
    this.element.classList.toggle("can-drag", movable);
  }

  get editing() {
    return Boolean(this.form);
  }

  /** Swap the note for its edit form; `save(fields)` is called with what changed. */
  startEdit(note, { colorSelect, statementSelect, save }) {
    const { t } = this;
    const id = `edit-${this.noteId}`;
    const textarea = h("textarea", { id, rows: 3, maxlength: MAX_TEXT }, note.text);
    const color = colorSelect(`${id}-color`, note.color);
    const statement = statementSelect(`${id}-statement`, note.statement_id);
    this.form = h(
      "form",
      { class: "edit-note" },
      h("label", { for: id, class: "visually-hidden" }, t("note.text")),
      textarea,
      h("div", { class: "row" }, h("label", { for: statement.id, class: "small" }, t("note.statement")), statement),
      h("div", { class: "row" },
        h("label", { for: color.id, class: "small" }, t("note.color")), color,
        h("button", { type: "submit" }, t("note.save")),
        h("button", { type: "button", on: { click: () => this.finishEdit() } }, t("note.cancel"))),
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = textarea.value.trim();
      if (text && text.length <= MAX_TEXT) save({ text, color: color.value, statement_id: statement.value || null });
      this.finishEdit();
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.finishEdit();
    });
    this.view.hidden = true;
    this.element.append(this.form);
    textarea.focus();
  }

  /** Back to the note, with the focus on its "Ändra" (what was used to get here). */
  finishEdit() {
    this.form?.remove();
    this.form = null;
    this.view.hidden = false;
    this.editButton.focus();
  }

  /** Where the focus goes to be "on this note": its first button. */
  focus(options) {
    (this.readOnly ? this.element : this.voteButton).focus(options);
  }
}
