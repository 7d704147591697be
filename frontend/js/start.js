// The start page: create a room (and land in the presenter view) or join one by its code.

import { h } from "./dom.js";
import { loadLocale, languageSwitch } from "./locale.js";

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
    localStorage.setItem(`samskapa:facilitator:${body.room_id}`, body.facilitator_token);
    localStorage.setItem("samskapa:language", data.get("language"));
    location.assign(`/r/${encodeURIComponent(body.room_id)}/present`);
  } catch (error) {
    feedback.textContent = t("start.create.failed", { message: error.message });
  } finally {
    button.disabled = false;
    button.textContent = t("start.create.submit");
  }
}

async function joinRoom(code, feedback) {
  const { t } = locale;
  const digits = code.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(digits)) {
    feedback.textContent = t("start.join.invalid");
    return;
  }
  const response = await fetch(`/api/join/${digits}`);
  if (response.ok) {
    const { room_id: roomId } = await response.json();
    location.assign(`/r/${encodeURIComponent(roomId)}`);
    return;
  }
  feedback.textContent = t(response.status === 429 ? "start.join.limited" : response.status === 404 ? "start.join.notFound" : "start.join.invalid");
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

function render() {
  const { t, language } = locale;
  document.title = `Samskapa – ${t("app.tagline")}`;
  const createFeedback = h("p", { class: "feedback", role: "alert" });
  const joinFeedback = h("p", { class: "feedback", role: "alert" });
  const createForm = h(
    "form",
    { class: "card" },
    h("h2", {}, t("start.create.heading")),
    h("div", { class: "field" },
      h("label", { for: "room-title" }, t("start.create.title")),
      h("input", { id: "room-title", name: "title", required: true, maxlength: 120, "aria-describedby": "room-title-hint" }),
      h("p", { id: "room-title-hint", class: "hint" }, t("start.create.titleHint"))),
    h("div", { class: "field" },
      h("label", { for: "room-language" }, t("start.create.language")),
      h("select", { id: "room-language", name: "language" },
        ["sv", "en", "fi"].map((code) => h("option", { value: code, selected: code === language, lang: code }, t(`lang.${code}`))))),
    templateChooser(t),
    h("button", { type: "submit", class: "primary" }, t("start.create.submit")),
    createFeedback,
  );
  createForm.addEventListener("submit", (event) => {
    event.preventDefault();
    createRoom(createForm, createFeedback);
  });
  const codeInput = h("input", {
    id: "join-code", name: "code", inputmode: "numeric", autocomplete: "off", pattern: "\\s*\\d{3}\\s*\\d{3}\\s*", maxlength: 7, required: true,
  });
  const joinForm = h(
    "form",
    { class: "card" },
    h("h2", {}, t("start.join.heading")),
    h("div", { class: "field" }, h("label", { for: "join-code" }, t("start.join.code")), codeInput),
    h("button", { type: "submit", class: "primary" }, t("start.join.submit")),
    joinFeedback,
  );
  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    joinRoom(codeInput.value, joinFeedback);
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
      h("p", { class: "muted small" }, t("start.privacy"))),
  );
}

render();
