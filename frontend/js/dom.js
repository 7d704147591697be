// Tiny DOM helpers. User text only ever becomes a text node: there is no innerHTML here.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(element, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") element.textContent = value;
    else if (name === "on") for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "class") element.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  apply(element, attrs);
  append(element, children);
  return element;
}

export function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, attrs);
  append(element, children);
  return element;
}

/** Make `parent`'s children exactly `wanted`, moving only what is out of place: a node that
 * stays where it is keeps its focus (moving a node in the DOM drops the focus inside it). */
export function syncChildren(parent, wanted) {
  wanted.forEach((child, index) => {
    if (parent.children[index] !== child) parent.insertBefore(child, parent.children[index] ?? null);
  });
  while (parent.children.length > wanted.length) parent.lastElementChild.remove();
}

/**
 * Run `change` (which may replace or move what has the focus) and keep the focus where it
 * was: on the same element if it is still on the page, else on the element that took its
 * id. Returns false if neither is there and the focus was lost, so the caller can choose a
 * place; true otherwise (also when the focus was not inside `within` to begin with).
 */
export function keepFocus(within, change) {
  const before = document.activeElement;
  const inside = before && before !== document.body && within.contains(before);
  const id = before?.id;
  change();
  if (!inside || document.activeElement === before) return true;
  const again = before.isConnected ? before : id ? document.getElementById(id) : null;
  if (!again) return false;
  again.focus({ preventScroll: true });
  return true;
}

/** Run `render` at most once per animation frame however often it is asked for. */
export function frameThrottle(render) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      render();
    });
  };
}

/**
 * Run `work` once the frame being drawn now has been painted (a task after the next
 * animation frame): for what must not hold up what the person sees first, such as the
 * modules a later screen needs.
 */
export function afterPaint(work) {
  requestAnimationFrame(() => setTimeout(work, 0));
}

/** A polite live region that speaks at most once per `minGapMs` (the latest text wins). */
export function createAnnouncer(region, minGapMs = 8000) {
  let last = 0;
  let pending = null;
  let timer = null;
  const speak = (text) => {
    last = Date.now();
    region.textContent = "";
    // A fresh text node after clearing makes screen readers announce a repeat too.
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  };
  return {
    now(text) {
      clearTimeout(timer);
      pending = null;
      speak(text);
    },
    later(text) {
      pending = text;
      const wait = last + minGapMs - Date.now();
      if (wait <= 0) {
        speak(text);
        pending = null;
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (pending) speak(pending);
        pending = null;
      }, wait);
    },
  };
}
