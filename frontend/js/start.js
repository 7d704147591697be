// The start page: create a room (and land in the console) or join one by its code, and
// get back to the rooms this browser holds the key of (my-rooms.js; kept here only).

import { h } from "./dom.js";
import { formatDate } from "./format.js";
import { loadLocale, languageSwitch } from "./i18n.js";
import { facilitatorKey, forgetRoom, myRooms, rememberRoom } from "./my-rooms.js";

let locale = await loadLocale();

// Refusals a facilitator can act on get their own words; any other shows the server's message.
const CREATE_ERRORS = {
  invalid_template: "start.create.templateBad",
  rate_limited: "start.create.limited",
  too_many_connections: "start.create.limited",
  too_large: "start.create.tooLarge",
};

async function createRoom(form, feedback) {
  const { t } = locale;
  const data = new FormData(form);
  let template = "tjanstelogik";
  const file = data.get("template_file");
  if (file && file.size) {
    try {
      template = JSON.parse(await file.text());
    } catch (error) {
      feedback.textContent = t("start.create.templateBad", { message: error.message });
      return;
    }
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  button.textContent = t("start.create.busy");
  try {
    const response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: data.get("title"), language: data.get("language"), template }),
    });
    const body = await response.json();
    if (!response.ok) {
      const key = CREATE_ERRORS[body.code] ?? "start.create.failed";
      feedback.textContent = t(key, { message: body.message });
      return;
    }
    localStorage.setItem(facilitatorKey(body.room_id), body.facilitator_token);
    rememberRoom(localStorage, { id: body.room_id, title: data.get("title").trim(), join_code: body.join_code });
    localStorage.setItem("samskapa:language", data.get("language"));
    location.assign(`/r/${encodeURIComponent(body.room_id)}/present`);
  } catch (error) {
    feedback.textContent = t("start.create.failed", { message: error.message });
  } finally {
    button.disabled = false;
    button.textContent = t("start.create.submit");
  }
}

/**
 * The forms check their fields themselves (novalidate): the browser's own check shows a
 * bubble in the browser's language, beside the page's. A wrong field says why in the page's
 * words, next to it, is marked invalid and has the focus; typing in it clears that.
 */
function refuse(field, feedback, message) {
  feedback.textContent = message;
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby", [field.dataset.hint, feedback.id].filter(Boolean).join(" "));
  field.focus();
}

function checkedAgain(field, feedback) {
  field.addEventListener("input", () => {
    if (field.getAttribute("aria-invalid") !== "true") return;
    field.removeAttribute("aria-invalid");
    if (field.dataset.hint) field.setAttribute("aria-describedby", field.dataset.hint);
    else field.removeAttribute("aria-describedby");
    feedback.textContent = "";
  });
}

async function joinRoom(input, feedback) {
  const { t } = locale;
  const digits = input.value.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(digits)) {
    refuse(input, feedback, t("start.join.invalid"));
    return;
  }
  const response = await fetch(`/api/join/${digits}`);
  if (response.ok) {
    const { room_id: roomId } = await response.json();
    location.assign(`/r/${encodeURIComponent(roomId)}`);
    return;
  }
  if (response.status === 429) feedback.textContent = t("start.join.limited");
  else refuse(input, feedback, t(response.status === 404 ? "start.join.notFound" : "start.join.invalid"));
}

/**
 * Choosing a template file: the browser's own file input is hidden, because its button and
 * its "no file chosen" speak the browser's language, not the page's; a labelled button of
 * ours opens it, and the chosen file's name is said in words.
 */
function templateChooser(t) {
  const input = h("input", { id: "template-file", name: "template_file", type: "file", accept: "application/json,.json", hidden: true });
  const chosen = h("p", { id: "template-file-chosen", class: "hint", "aria-live": "polite" }, t("start.create.templateNone"));
  const choose = h("button", { type: "button", "aria-describedby": chosen.id, on: { click: () => input.click() } }, t("start.create.templateChoose"));
  const reset = h("button", { type: "button", hidden: true }, t("start.create.templateReset"));
  const show = () => {
    const file = input.files?.[0];
    chosen.textContent = file ? t("start.create.templateChosen", { name: file.name }) : t("start.create.templateNone");
    reset.hidden = !file;
  };
  input.addEventListener("change", show);
  reset.addEventListener("click", () => {
    input.value = "";
    show();
    choose.focus();
  });
  return h("fieldset", { class: "field template-chooser" },
    h("legend", {}, t("start.create.template")),
    h("p", {}, t("start.create.templateDefault")),
    h("div", { class: "row" }, choose, reset),
    chosen,
    input);
}

/** The rooms this browser created or was handed, each with the way back to its console. */
function myRoomsList(t, language) {
  const rooms = myRooms(localStorage);
  if (!rooms.length) return null;
  const status = h("p", { class: "visually-hidden", role: "status" });
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "forget-title" });
  const list = h("ul", { class: "my-rooms-list" });
  const section = h("section", { class: "card my-rooms", "aria-labelledby": "my-rooms-title" },
    h("h2", { id: "my-rooms-title", tabindex: "-1" }, t("start.mine.heading")),
    h("p", { class: "hint" }, t("start.mine.note")),
    list, status, dialog);
  const ask = (room, item) => {
    dialog.replaceChildren(
      h("h2", { id: "forget-title" }, t("start.mine.remove")),
      h("p", {}, t("start.mine.confirm", { title: room.title })),
      h("form", { method: "dialog", class: "row" },
        h("button", { type: "submit", value: "cancel" }, t("note.cancel")),
        h("button", { type: "submit", value: "forget", class: "danger" }, t("start.mine.remove"))));
    dialog.onclose = () => {
      if (dialog.returnValue !== "forget") return;
      forgetRoom(localStorage, room.id);
      const next = item.nextElementSibling ?? item.previousElementSibling;
      item.remove();
      status.textContent = t("start.mine.removed", { title: room.title });
      (next?.querySelector("a") ?? section.querySelector("h2")).focus();
      if (!list.children.length) list.replaceWith(h("p", {}, t("start.mine.empty")));
    };
    dialog.showModal();
  };
  for (const room of rooms) {
    const item = h("li", { class: "my-room" },
      h("p", { class: "my-room-title" }, room.title),
      h("p", { class: "my-room-meta" },
        room.join_code ? h("span", {}, t("start.mine.code", { code: `${room.join_code.slice(0, 3)} ${room.join_code.slice(3)}` })) : null,
        h("span", {}, t("start.mine.added", { date: formatDate(room.added, language) }))),
      h("div", { class: "row" },
        h("a", { class: "button-link", href: `/r/${encodeURIComponent(room.id)}/present`, "aria-label": t("start.mine.openLabel", { title: room.title }) }, t("start.mine.open")),
        h("button", { type: "button", "aria-label": t("start.mine.removeLabel", { title: room.title }), on: { click: () => ask(room, item) } }, t("start.mine.remove"))));
    list.append(item);
  }
  return section;
}

function render() {
  const { t, language } = locale;
  document.title = `Samskapa – ${t("app.tagline")}`;
  const createFeedback = h("p", { class: "feedback", role: "alert", id: "create-feedback" });
  const joinFeedback = h("p", { class: "feedback", role: "alert", id: "join-feedback" });
  const titleInput = h("input", {
    id: "room-title", name: "title", required: true, maxlength: 120, "aria-describedby": "room-title-hint", dataset: { hint: "room-title-hint" },
  });
  const createForm = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, t("start.create.heading")),
    h("div", { class: "field" },
      h("label", { for: "room-title" }, t("start.create.title")),
      titleInput,
      h("p", { id: "room-title-hint", class: "hint" }, t("start.create.titleHint"))),
    h("div", { class: "field" },
      h("label", { for: "room-language" }, t("start.create.language")),
      h("select", { id: "room-language", name: "language" },
        ["sv", "en", "fi"].map((code) => h("option", { value: code, selected: code === language, lang: code }, t(`lang.${code}`))))),
    templateChooser(t),
    h("button", { type: "submit", class: "primary" }, t("start.create.submit")),
    createFeedback,
  );
  checkedAgain(titleInput, createFeedback);
  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!titleInput.value.trim()) refuse(titleInput, createFeedback, t("start.create.titleMissing"));
    else createRoom(createForm, createFeedback);
  });
  const codeInput = h("input", { id: "join-code", name: "code", inputmode: "numeric", autocomplete: "off", maxlength: 7, required: true });
  checkedAgain(codeInput, joinFeedback);
  const joinForm = h(
    "form",
    { class: "card", novalidate: true },
    h("h2", {}, t("start.join.heading")),
    h("div", { class: "field" }, h("label", { for: "join-code" }, t("start.join.code")), codeInput),
    h("button", { type: "submit", class: "primary" }, t("start.join.submit")),
    joinFeedback,
  );
  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    joinRoom(codeInput, joinFeedback);
  });
  const prefill = new URLSearchParams(location.search).get("code");
  if (prefill) codeInput.value = prefill;
  const app = document.getElementById("app");
  app.replaceChildren(
    h("header", { class: "start-header" },
      h("p", { class: "logo" }, "Samskapa"),
      languageSwitch(locale, async (next) => {
        locale = await loadLocale(next);
        render();
        document.getElementById("language")?.focus();
      })),
    h("main", { id: "main", tabindex: "-1", class: "start" },
      h("h1", {}, t("app.tagline")),
      h("p", { class: "lead" }, t("start.intro")),
      h("div", { class: "start-cards" }, joinForm, createForm),
      myRoomsList(t, language),
      h("p", { class: "muted small" }, t("start.privacy"))),
  );
}

render();
