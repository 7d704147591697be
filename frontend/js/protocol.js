// The live protocol's error and close codes, as docs/protocol.md lists them. One place, so
// that the connection and the pages switch on names, not numbers, and so that a test
// (tests/js/protocol.test.mjs) can hold this module to that document. Pure: no DOM.

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
]);

/** Refusals a person can cause by an ordinary action, explained in their own words (error.<code>). */
export const EXPLAINED_ERRORS = Object.freeze([
  ErrorCode.VOTING_LOCKED,
  ErrorCode.ROOM_CLOSED,
  ErrorCode.NOT_AUTHOR,
  ErrorCode.NOT_FOUND,
]);
