// The live connection: one WebSocket, resumed after every drop with the last seq seen,
// with an outbox so that commands made offline are sent (once) when it is back.

import { CloseCode, FINAL_CLOSE_REASONS, greeting, participantTokenKey, reloadForVersion } from "./protocol.js";
import { Outbox, applyMessage, initialState, newCid } from "./state.js";

const BACKOFF_MS = [300, 1000, 2000, 4000, 8000, 15000];
const PING_EVERY_MS = 20000;
const PONG_TIMEOUT_MS = 8000;

function secureRandom() {
  const word = new Uint32Array(1);
  crypto.getRandomValues(word);
  return word[0] / 0x100000000;
}

export class LiveConnection extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.roomId
   * @param {string|null} options.token  facilitator token, or null to use/create a participant
   * @param {Storage} options.storage   where tokens and the outbox survive a reload
   * @param {string|null} options.name  a name to give when joining anew
   * @param {boolean} options.screen  a read-only view (a projector): no identity, no token
   */
  constructor({ roomId, token = null, storage = window.localStorage, name = null, screen = false }) {
    super();
    this.roomId = roomId;
    this.storage = storage;
    this.screen = screen;
    this.facilitator = !screen && Boolean(token);
    this.token = screen ? null : token ?? storage.getItem(this.tokenKey);
    this.joinName = name;
    this.state = initialState();
    this.status = "connecting";
    this.finalReason = null;
    this.socket = null;
    this.attempt = 0;
    this.outbox = Outbox.load(storage, this.outboxKey);
    this.pingTimer = null;
    this.pongTimer = null;
    this.retryTimer = null;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.socket?.close());
  }

  get tokenKey() {
    return participantTokenKey(this.roomId);
  }

  get outboxKey() {
    return `samskapa:outbox:${this.roomId}:${this.screen ? "s" : this.facilitator ? "f" : "p"}`;
  }

  start() {
    this.open();
    return this;
  }

  open() {
    clearTimeout(this.retryTimer);
    const { url, hello } = greeting(this.roomId, { screen: this.screen, token: this.token, name: this.joinName });
    const socket = new WebSocket(url);
    // A hello in the URL resumes nothing; only a screen or an identity resumes (epoch).
    if (hello) {
      if (this.state.epoch) Object.assign(hello, { epoch: this.state.epoch, last_seq: this.state.seq });
      socket.addEventListener("open", () => socket.send(JSON.stringify(hello)));
    }
    this.listen(socket);
  }

  /**
   * Take over a socket opened before this connection existed (early-connection.js), as the
   * first instead of `start()`: its hello is sent or on its way; what it heard until now
   * is received here, in order, as if this connection had heard it, and a close it heard is
   * handled as one heard now (a reconnect, or the end).
   */
  adopt({ socket, heard, closedWith }) {
    this.listen(socket);
    for (const message of heard) this.receive(message);
    if (closedWith !== null) this.closed(socket, closedWith);
    return this;
  }

  listen(socket) {
    this.socket = socket;
    this.setStatus("connecting");
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
  }

  receive(message) {
    applyMessage(this.state, message);
    if (message.type === "welcome") {
      this.attempt = 0;
      if (message.you.token) {
        this.token = message.you.token;
        this.storage.setItem(this.tokenKey, this.token);
      }
      this.setStatus("online");
      this.flush();
      this.keepAlive();
    } else if (message.type === "ack" || (message.type === "error" && message.cid)) {
      if (this.outbox.settle(message.cid)) this.outbox.save(this.storage, this.outboxKey);
    } else if (message.type === "pong") {
      clearTimeout(this.pongTimer);
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
    this.dispatchEvent(new Event("change"));
  }

  closed(socket, code) {
    if (socket !== this.socket) return;
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.socket = null;
    if (FINAL_CLOSE_REASONS.has(code)) {
      this.finalReason = FINAL_CLOSE_REASONS.get(code);
      if (code === CloseCode.UNAUTHORIZED && !this.facilitator && !this.screen) this.storage.removeItem(this.tokenKey);
      this.setStatus("ended");
      // The page is older than every version the server speaks: the current page is one
      // reload away. Once only; after that the page says so (room.tooOld) with a button.
      if (code === CloseCode.CLIENT_TOO_OLD && reloadForVersion(() => window.sessionStorage)) location.reload();
      return;
    }
    this.setStatus("offline");
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.open(), delay * (0.75 + secureRandom() / 2));
  }

  reconnectNow() {
    if (this.status === "ended") return;
    if (!this.socket) this.open();
  }

  keepAlive() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.socket?.readyState !== WebSocket.OPEN) return;
      this.socket.send(JSON.stringify({ type: "ping" }));
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.socket?.close(), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  /** Send a command now if online; it is kept until the server answers either way. */
  send(command) {
    const full = { ...command, cid: command.cid ?? newCid(secureRandom) };
    this.outbox.add(full);
    this.outbox.save(this.storage, this.outboxKey);
    if (this.status === "online") this.socket.send(JSON.stringify(full));
    this.dispatchEvent(new Event("change"));
    return full.cid;
  }

  flush() {
    for (const command of this.outbox.pending()) this.socket.send(JSON.stringify(command));
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new Event("status"));
    this.dispatchEvent(new Event("change"));
  }
}
