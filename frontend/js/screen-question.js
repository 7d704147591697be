// The screen's reflection question: one at a time, large, with where it stands among them.

import { h } from "./dom.js";

export class QuestionView {
  constructor({ live, locale, text }, question) {
    const { t } = locale;
    const template = live.state.template;
    const questions = template.questions;
    const index = Math.min(question, Math.max(0, questions.length - 1));
    this.element = questions.length
      ? h("section", { class: "screen-question" },
          h("p", { class: "screen-heading" }, text(template.reflection_title) || t("pr.questions")),
          h("h2", { class: "question-position" }, t("screen.question", { n: index + 1, total: questions.length })),
          h("p", { class: "question-text" }, text(questions[index].text)),
          template.credit ? h("p", { class: "question-credit" }, `${t("credit.label")}: ${text(template.credit)}`) : null)
      : h("section", { class: "screen-question" }, h("h2", { class: "question-text" }, t("screen.noQuestions")));
  }

  update() {}
}
