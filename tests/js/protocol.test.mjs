// The client's error and close codes (frontend/js/protocol.js) against docs/protocol.md,
// which tests/test_protocol_doc.py in turn holds to the server's app/protocol.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { endedMessage } from "../../frontend/js/page.js";
import { CloseCode, EXPLAINED_ERRORS, ErrorCode, FINAL_CLOSE_REASONS, RELOAD_WINDOW_MS, reloadForVersion } from "../../frontend/js/protocol.js";

const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
const locales = Object.fromEntries(
  ["sv", "en", "fi"].map((language) => [
    language,
    JSON.parse(readFileSync(new URL(`../../frontend/locales/${language}.json`, import.meta.url), "utf8")),
  ]),
);

/** The rows of the first table under `## heading`: each row's cells, first cell unquoted. */
function tableRows(heading) {
  const start = doc.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/protocol.md has no section "${heading}"`);
  const section = doc.slice(start + 1).split(/\n## /)[0];
  return section
    .split("\n")
    .filter((line) => /^\| `[^`]+` \|/.test(line))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim().replace(/^`|`$/g, "")));
}

test("the error codes are exactly the documented ones", () => {
  const documented = tableRows("Error codes").map(([code]) => code);
  assert.ok(documented.length >= 10, `only ${documented.length} error codes found: has the table changed shape?`);
  assert.deepEqual([...Object.values(ErrorCode)].sort(), [...documented].sort());
});

test("the close codes are exactly the documented ones", () => {
  const documented = tableRows("Close codes").map(([code]) => Number(code));
  assert.ok(documented.length >= 8, `only ${documented.length} close codes found: has the table changed shape?`);
  assert.deepEqual([...Object.values(CloseCode)].sort(), [...documented].sort());
});

test("the client gives up only where the document says reconnecting does not help", () => {
  const helps = new Map(tableRows("Close codes").map(([code, , answer]) => [Number(code), answer.toLowerCase()]));
  for (const code of FINAL_CLOSE_REASONS.keys()) {
    assert.match(helps.get(code), /^not?\b/, `${code} is final in the client, but the document says: ${helps.get(code)}`);
  }
  for (const [code, answer] of helps) {
    if (answer.startsWith("yes")) assert.ok(!FINAL_CLOSE_REASONS.has(code), `${code} must be retried: ${answer}`);
  }
});

test("every final close and every explained error has its words in each language", () => {
  for (const [language, messages] of Object.entries(locales)) {
    const t = (key) => messages[key] ?? `missing ${key}`;
    const said = new Set();
    for (const reason of FINAL_CLOSE_REASONS.values()) {
      const text = endedMessage({ finalReason: reason }, t);
      assert.doesNotMatch(text, /^missing /, `${language}: no words for the close reason ${reason}`);
      said.add(text);
    }
    assert.equal(said.size, FINAL_CLOSE_REASONS.size, `${language}: each reason is explained in words of its own`);
    for (const code of EXPLAINED_ERRORS) {
      assert.ok(Object.values(ErrorCode).includes(code), code);
      assert.ok(messages[`error.${code}`], `${language}: error.${code}`);
    }
  }
});

/** A Storage of a Map, as sessionStorage behaves. */
function memoryStorage() {
  const items = new Map();
  return { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => items.set(key, String(value)) };
}

test("a page too old for the server reloads once, not in a loop", () => {
  assert.ok(FINAL_CLOSE_REASONS.has(CloseCode.CLIENT_TOO_OLD), "4426 ends the connection: reconnecting cannot help");
  assert.ok(!FINAL_CLOSE_REASONS.has(CloseCode.SERVER_TOO_OLD), "4427 is retried with backoff, as 4012");
  const storage = memoryStorage();
  const start = 1_000_000;
  assert.equal(reloadForVersion(storage, start), true, "the first refusal reloads");
  assert.equal(reloadForVersion(storage, start + 2_000), false, "refused again just after the reload: ask instead");
  assert.equal(reloadForVersion(storage, start + RELOAD_WINDOW_MS - 1), false);
  assert.equal(reloadForVersion(storage, start + RELOAD_WINDOW_MS), true, "a later upgrade reloads again");
  assert.equal(reloadForVersion(() => storage, start + 2 * RELOAD_WINDOW_MS), true, "storage may be given lazily");
  const blocked = () => {
    throw new Error("SecurityError");
  };
  assert.equal(reloadForVersion(blocked, start), false, "without storage a loop could not be told: never reload");
  assert.equal(reloadForVersion({ getItem: blocked, setItem: blocked }, start), false);
});

test("a page too old says so with a reload button, in each language", () => {
  for (const [language, messages] of Object.entries(locales)) {
    assert.ok(messages["room.tooOld"], `${language}: room.tooOld`);
    assert.ok(messages["room.reload"], `${language}: room.reload`);
  }
  assert.match(locales.sv["room.tooOld"], /^Sidan behöver laddas om/);
});
