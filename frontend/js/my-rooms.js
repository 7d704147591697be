// The rooms this browser holds the facilitator key of: the ones it created and the ones
// opened with a facilitator link. Kept in this browser's localStorage only (the server
// knows nothing of the list), so the start page can lead back to each room's console.
// Pure apart from the Storage it is given (tested with `node --test`).

const LIST_KEY = "samskapa:my-rooms";
const MAX_ROOMS = 50;

export const facilitatorKey = (roomId) => `samskapa:facilitator:${roomId}`;

function read(storage) {
  try {
    const list = JSON.parse(storage.getItem(LIST_KEY) ?? "[]");
    return Array.isArray(list) ? list.filter((room) => room && typeof room.id === "string") : [];
  } catch {
    return [];
  }
}

function write(storage, list) {
  storage.setItem(LIST_KEY, JSON.stringify(list.slice(0, MAX_ROOMS)));
}

/**
 * The rooms, newest first, without the expired ones (the server has deleted those) and
 * without any whose key this browser no longer holds.
 */
export function myRooms(storage, nowMs = Date.now()) {
  const kept = read(storage).filter((room) => storage.getItem(facilitatorKey(room.id)) !== null);
  const live = kept.filter((room) => !room.expires_at || Date.parse(room.expires_at) > nowMs);
  if (live.length !== read(storage).length) write(storage, live);
  return live.sort((a, b) => (a.added < b.added ? 1 : a.added > b.added ? -1 : 0));
}

/**
 * Remember a room (or bring what is known of it up to date): `id`, `title`, `join_code`,
 * `expires_at`. The date it was first added here stays.
 */
export function rememberRoom(storage, room, nowMs = Date.now()) {
  const list = read(storage);
  const known = list.find((entry) => entry.id === room.id);
  const entry = { ...known, ...room, added: known?.added ?? new Date(nowMs).toISOString() };
  write(storage, [entry, ...list.filter((other) => other.id !== room.id)]);
  return entry;
}

/** Forget a room on this browser: its entry and its key (the room itself stays). */
export function forgetRoom(storage, roomId) {
  write(storage, read(storage).filter((room) => room.id !== roomId));
  storage.removeItem(facilitatorKey(roomId));
}
