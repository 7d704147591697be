// Where a room page's socket goes and how it says hello. Its own module, with no imports,
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
