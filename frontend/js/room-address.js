// Where a room page's socket goes and what it says first. Its own module, with no imports,
// because the participant page's early socket (early-connection.js) needs exactly this and
// must arrive first on a slow link; LiveConnection uses the same for every later socket.

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

/** The hello of a socket that resumes nothing (docs/protocol.md, "hello"). */
export function firstHello({ screen = false, token = null, name = null }) {
  if (screen) return { type: "hello", screen: true };
  const hello = { type: "hello", token: token ?? null };
  if (!token && name) hello.name = name;
  return hello;
}
