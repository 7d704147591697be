// Moving a note with a pointer. A mouse drags a note from anywhere on it; a finger from its
// handle (⠿), because anywhere else a finger's move is the page's scroll. The handle takes
// the touch for itself (touch-action: none, in app.css), so the browser does not start
// scrolling and cancel the drag. Near the top or bottom of the screen the page scrolls along,
// so a note can reach a column a phone shows further down. The "Flytta…" dialog is the same
// for everyone else.

const THRESHOLD_PX = 6;
const EDGE_PX = 56;
const SCROLL_PX_PER_FRAME = 14;

/**
 * @param {HTMLElement} card   the note's element
 * @param {HTMLElement} handle where a touch may start the drag
 * @param {object} options
 * @param {() => boolean} options.enabled   whether the note may be moved now
 * @param {(x: number, y: number) => object|null} options.targetAt  where a drop here would go
 * @param {(target: object|null) => void} options.highlight
 * @param {(target: object) => void} options.drop
 */
export function enableDrag(card, handle, { enabled, targetAt, highlight, drop }) {
  card.addEventListener("pointerdown", (down) => {
    if (!enabled() || down.button !== 0) return;
    const fromHandle = handle.contains(down.target);
    if (down.pointerType !== "mouse" && !fromHandle) return;
    if (!fromHandle && down.target.closest("button, textarea, select, a, input")) return;
    new Drag(card, down, { targetAt, highlight, drop });
  });
}

class Drag {
  constructor(card, down, { targetAt, highlight, drop }) {
    this.card = card;
    this.start = { x: down.clientX, y: down.clientY };
    this.at = this.start;
    this.ghost = null;
    this.scrolling = 0;
    this.options = { targetAt, highlight, drop };
    this.moved = (event) => this.move(event);
    this.ended = (event) => this.end(event);
    card.setPointerCapture(down.pointerId);
    card.addEventListener("pointermove", this.moved);
    card.addEventListener("pointerup", this.ended);
    card.addEventListener("pointercancel", this.ended);
  }

  move(event) {
    this.at = { x: event.clientX, y: event.clientY };
    if (!this.ghost && Math.hypot(this.at.x - this.start.x, this.at.y - this.start.y) < THRESHOLD_PX) return;
    event.preventDefault();
    if (!this.ghost) {
      this.ghost = this.card.cloneNode(true);
      this.ghost.classList.add("drag-ghost");
      this.ghost.setAttribute("aria-hidden", "true");
      this.ghost.style.width = `${this.card.offsetWidth}px`;
      document.body.append(this.ghost);
      this.card.classList.add("dragging");
    }
    this.follow();
    if (!this.scrolling) this.scrolling = requestAnimationFrame(() => this.scrollAlong());
  }

  follow() {
    this.ghost.style.transform = `translate(${this.at.x - 20}px, ${this.at.y - 20}px)`;
    this.options.highlight(this.options.targetAt(this.at.x, this.at.y));
  }

  /** While the pointer is held near the top or bottom edge, the page scrolls that way. */
  scrollAlong() {
    this.scrolling = 0;
    if (!this.ghost) return;
    const { y } = this.at;
    const direction = y < EDGE_PX ? -1 : y > window.innerHeight - EDGE_PX ? 1 : 0;
    if (!direction) return;
    window.scrollBy(0, direction * SCROLL_PX_PER_FRAME);
    this.follow();
    this.scrolling = requestAnimationFrame(() => this.scrollAlong());
  }

  end(event) {
    this.card.removeEventListener("pointermove", this.moved);
    this.card.removeEventListener("pointerup", this.ended);
    this.card.removeEventListener("pointercancel", this.ended);
    cancelAnimationFrame(this.scrolling);
    if (!this.ghost) return;
    this.ghost.remove();
    this.ghost = null;
    this.card.classList.remove("dragging");
    const target = this.options.targetAt(event.clientX, event.clientY);
    this.options.highlight(null);
    if (target && event.type === "pointerup") this.options.drop(target);
  }
}
