// The participant page's room connection, opened as soon as this module and the four the
// connection needs (connection, outbox, protocol, state) have arrived: participant.html loads
// it as a module script of its own, before the page's main module, whose far larger graph
// would otherwise have to arrive and run first. On a slow link the socket's handshake and the
// room's welcome then travel while the rest of the page is still on its way
// (docs/performance.md, "The participant page on a weak link").
//
// The page takes the connection over once it listens (`startRoomPage`'s `earlyConnection`),
// with every message heard until then: the state has applied them already, and the page
// hears them in order, as if it had listened from the start. Only the participant page
// imports this module, so the connection it opens is always a participant's.

import { LiveConnection, roomIdFromPath } from "./connection.js";

let early = new LiveConnection({ roomId: roomIdFromPath() }).start();
const heard = [];
const hear = ({ detail: message }) => heard.push(message);
early.addEventListener("message", hear);

/** The connection and the messages it received so far, once; null after that. */
export function takeEarlyConnection() {
  if (!early) return null;
  early.removeEventListener("message", hear);
  const taken = { live: early, earlier: heard.splice(0) };
  early = null;
  return taken;
}
