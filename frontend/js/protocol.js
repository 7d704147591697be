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
]);

/** Refusals a person can cause by an ordinary action, explained in their own words (error.<code>). */
export const EXPLAINED_ERRORS = Object.freeze([
  ErrorCode.VOTING_LOCKED,
  ErrorCode.ROOM_CLOSED,
  ErrorCode.NOT_AUTHOR,
  ErrorCode.NOT_FOUND,
  ErrorCode.GROUP_FIXED,
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
 * put in a URL, so those go in the hello.
 */
export function greeting(roomId, { screen = false, token = null, name = null } = {}) {
  const url = roomSocketUrl(roomId);
  if (screen) return { url, hello: { type: "hello", screen: true } };
  if (token) return { url, hello: { type: "hello", token } };
  if (name) return { url, hello: { type: "hello", token: null, name } };
  return { url: `${url}?join=new`, hello: null };
}
