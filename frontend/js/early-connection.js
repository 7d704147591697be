// The participant page's room socket, opened as soon as this module and protocol.js
// (two small files) have arrived: participant.html loads it as a module script of its own,
// before the page's main module, whose far larger graph would otherwise have to arrive and
// run first. On a slow link the socket's handshake and the room's welcome then travel while
// the rest of the page is still on its way (docs/performance.md, "The participant page on a
// weak link"). It only opens the socket, says hello and keeps what it hears: the page's
// LiveConnection adopts the socket (`LiveConnection.adopt`) and receives all of it, in order.
// Only the participant page imports this module, so the socket is always a participant's.

import { greeting, participantTokenKey, roomIdFromPath } from "./protocol.js";

const roomId = roomIdFromPath();
// Someone opening the link for the first time has no token: the URL says hello for them.
const { url, hello } = greeting(roomId, { token: localStorage.getItem(participantTokenKey(roomId)) });
const socket = new WebSocket(url);
const heard = [];
let closedWith = null;
let taken = false;
const hear = (event) => heard.push(JSON.parse(event.data));
const close = (event) => (closedWith = event.code);
socket.addEventListener("message", hear);
socket.addEventListener("close", close);
if (hello) socket.addEventListener("open", () => socket.send(JSON.stringify(hello)), { once: true });

/**
 * The socket and what it heard so far, once; null after that. `closedWith` is the close
 * code if it closed before it was taken; its hello is sent (or will be, on open).
 */
export function takeEarlyConnection() {
  if (taken) return null;
  taken = true;
  socket.removeEventListener("message", hear);
  socket.removeEventListener("close", close);
  return { socket, heard: heard.splice(0), closedWith };
}
