// The rooms this browser created or was handed (frontend/js/my-rooms.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { facilitatorKey, forgetRoom, myRooms, rememberRoom } from "../../frontend/js/my-rooms.js";

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

const MARCH = Date.parse("2026-03-10T09:00:00Z");
const day = (n) => MARCH + n * 86_400_000;

function withKey(storage, id) {
  storage.setItem(facilitatorKey(id), `token-${id}`);
}

test("rooms are listed newest first, keeping the date each was first added", () => {
  const storage = new MemoryStorage();
  withKey(storage, "a");
  withKey(storage, "b");
  rememberRoom(storage, { id: "a", title: "Första", join_code: "111111", expires_at: "2026-04-09T09:00:00Z" }, day(0));
  rememberRoom(storage, { id: "b", title: "Andra", join_code: "222222", expires_at: "2026-04-10T09:00:00Z" }, day(1));
  // The console of "a" opened again later, with a new title: the entry follows, its date stays.
  rememberRoom(storage, { id: "a", title: "Första, omdöpt" }, day(2));
  const rooms = myRooms(storage, day(3));
  assert.deepEqual(rooms.map((room) => [room.id, room.title, room.join_code]), [["b", "Andra", "222222"], ["a", "Första, omdöpt", "111111"]]);
  assert.equal(rooms[1].added, new Date(day(0)).toISOString());
});

test("an expired room, or one whose key is gone, drops out of the list", () => {
  const storage = new MemoryStorage();
  withKey(storage, "old");
  withKey(storage, "new");
  rememberRoom(storage, { id: "old", title: "Gammal", expires_at: "2026-03-12T09:00:00Z" }, day(0));
  rememberRoom(storage, { id: "new", title: "Ny", expires_at: "2026-04-12T09:00:00Z" }, day(0));
  rememberRoom(storage, { id: "keyless", title: "Utan nyckel" }, day(0));
  assert.deepEqual(myRooms(storage, day(1)).map((room) => room.id), ["new", "old"]);
  assert.deepEqual(myRooms(storage, day(3)).map((room) => room.id), ["new"]);
});

test("forgetting a room removes its entry and its key, and nothing else", () => {
  const storage = new MemoryStorage();
  withKey(storage, "a");
  withKey(storage, "b");
  rememberRoom(storage, { id: "a", title: "A" }, day(0));
  rememberRoom(storage, { id: "b", title: "B" }, day(1));
  forgetRoom(storage, "a");
  assert.deepEqual(myRooms(storage, day(2)).map((room) => room.id), ["b"]);
  assert.equal(storage.getItem(facilitatorKey("a")), null);
  assert.equal(storage.getItem(facilitatorKey("b")), "token-b");
});

test("a broken list is an empty list, not an error", () => {
  const storage = new MemoryStorage();
  storage.setItem("samskapa:my-rooms", "{not json");
  assert.deepEqual(myRooms(storage), []);
});
