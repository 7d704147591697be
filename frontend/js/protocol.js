// The live protocol as the browser speaks it (docs/protocol.md): where a room's socket is and
// how to say hello, and the error and close codes it answers with. One place, so that the
// connection and the pages switch on names, not numbers, and so that a test
// (tests/js/protocol.test.mjs) can hold this module to that document. No imports and no DOM
// (`location` is read when a function is called): the participant page's early socket
// (early-connection.js) needs it and must arrive first on a slow link; LiveConnection uses
// the same for every later socket.

export const ErrorCode = Object.freeze({
  INVALID_JSON: "invalid_json",
  INVALID_MESSAGE: "invalid_message",
  UNKNOWN_TYPE: "unknown_type",
  HELLO_REQUIRED: "hello_required",
  ALREADY_GREETED: "already_greeted",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not_found",
  NOT_AUTHOR: "not_author",
  VOTING_LOCKED: "voting_locked",
  ROOM_CLOSED: "room_closed",
  CONFLICT: "conflict",
  NOT_ENABLED: "not_enabled",
  LIMIT_REACHED: "limit_reached",
  UNAVAILABLE: "unavailable",
  GROUP_FIXED: "group_fixed",
  VOTE_BUDGET_SPENT: "vote_budget_spent",
  UNSUPPORTED_PROTOCOL: "unsupported_protocol",
});

export const CloseCode = Object.freeze({
  MESSAGE_TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  UNAUTHORIZED: 4001,
  ROOM_NOT_FOUND: 4004,
  RATE_LIMITED: 4008,
  TOO_SLOW: 4009,
  ROOM_DELETED: 4010,
  HELLO_TIMEOUT: 4011,
  SERVER_RESTART: 4012,
  ROOM_FULL: 4013,
  ACCESS_REVOKED: 4014,
  TOO_MANY_JOINS: 4029,
  CLIENT_TOO_OLD: 4426,
  SERVER_TOO_OLD: 4427,
});

/**
 * Closes after which reconnecting cannot help, with the reason the page explains
 * (room.<reason> in the locales). Every other close is retried with backoff; a full room
 * (4013) too, since a retry now and then costs little and the page keeps trying to get in.
 */
export const FINAL_CLOSE_REASONS = new Map([
  [CloseCode.UNAUTHORIZED, "unauthorized"],
  [CloseCode.ROOM_NOT_FOUND, "not_found"],
  [CloseCode.ROOM_DELETED, "deleted"],
  [CloseCode.ACCESS_REVOKED, "revoked"],
  [CloseCode.CLIENT_TOO_OLD, "too_old"],
]);

/**
 * How long a reload for a newer version counts as the last one: a page refused as too old
 * again within this time reloaded already and got no newer code (a cache, or a server that
 * dropped this version), so reloading again would only loop.
 */
export const RELOAD_WINDOW_MS = 60_000;
const RELOADED_AT_KEY = "samskapa:reloaded-for-version";

/**
 * Whether a page closed with CLIENT_TOO_OLD should reload itself now, noting that it did
 * (in `storage`, the tab's sessionStorage, so that a reload loop stops at one; a function
 * returning it too, since merely reading `window.sessionStorage` throws where storage is
 * blocked). False when
 * it reloaded within RELOAD_WINDOW_MS, or when storage cannot be used (then a reload could
 * never be told from the one before it): the page then asks the person to reload.
 */
export function reloadForVersion(storage, now = Date.now()) {
  try {
    storage = typeof storage === "function" ? storage() : storage;
    const last = Number(storage.getItem(RELOADED_AT_KEY));
    if (last && now - last >= 0 && now - last < RELOAD_WINDOW_MS) return false;
    storage.setItem(RELOADED_AT_KEY, String(now));
    return true;
  } catch {
    return false;
  }
}

/** Refusals a person can cause by an ordinary action, explained in their own words (error.<code>). */
export const EXPLAINED_ERRORS = Object.freeze([
  ErrorCode.VOTING_LOCKED,
  ErrorCode.ROOM_CLOSED,
  ErrorCode.NOT_AUTHOR,
  ErrorCode.NOT_FOUND,
  ErrorCode.GROUP_FIXED,
  ErrorCode.VOTE_BUDGET_SPENT,
]);

/** The room of this page's URL (`/r/<room id>…`), or null. */
export function roomIdFromPath() {
  const match = location.pathname.match(/^\/r\/([^/]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

/** The room's socket, on this page's host and over TLS when the page is. */
export function roomSocketUrl(roomId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/rooms/${encodeURIComponent(roomId)}`;
}

/** Where this browser keeps its participant token for a room. */
export function participantTokenKey(roomId) {
  return `samskapa:participant:${roomId}`;
}

/**
 * How a socket that resumes nothing says hello (docs/protocol.md, "hello"): the URL to open
 * and the hello to send once it is open. Someone new without a name says it in the URL
 * (`?join=new`, hello null) and is greeted a round trip sooner; a token or a name is never
 * put in a URL, so those go in the hello. The hello names no `protocols`: the page speaks
 * only version 1, which is what a hello without them means, and an instance from before
 * version negotiation would refuse the unknown field during a rolling upgrade.
 */
export function greeting(roomId, { screen = false, token = null, name = null } = {}) {
  const url = roomSocketUrl(roomId);
  if (screen) return { url, hello: { type: "hello", screen: true } };
  if (token) return { url, hello: { type: "hello", token } };
  if (name) return { url, hello: { type: "hello", token: null, name } };
  return { url: `${url}?join=new`, hello: null };
}
