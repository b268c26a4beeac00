// chatrelay.js: the browser client of ChatRelay (contract v3). A plain ES module: no build step, no dependencies.
//
//   import { WsRequest } from "/chatrelay.js";
//   const chat = new WsRequest("ws://127.0.0.1:4000/ws", myId, { getToken: () => fetchTokenFromMyBackend() });
//   chat.on("message", (m) => console.log(m.from, m.content));
//   const { id, ts } = await chat.send(friendshipId, "hello", friendId, "text");
//
// The tutorial's WsRequest, kept in shape, plus what a production client needs: a cid per send and a promise that
// settles on its ack, unacked sends resent with the same cid after a reconnect (the relay stores a cid once),
// reconnects with backoff and jitter, a sync from the last id seen per friendship, ids already seen dropped.
//
// Tokens never go in the URL (access logs keep URLs): the socket offers `chatrelay.token.TOKEN` as a subprotocol
// beside `chatrelay`. With `getToken`, the client asks for a new token before the current one runs out and refreshes
// the open socket in band; it asks again to reconnect after the node closed the socket for an expired token (4001) or
// refused the upgrade (a browser sees a 401 only as a socket that never opened). An admin's disconnect or block (4003)
// and an erased account (4004) end the client: it stops reconnecting and emits `ended`.

const OPEN = 1;

/** An error frame from the relay, or the socket closing on a request that can no longer be answered. */
export class ChatRelayError extends Error {
  constructor(code, message, cid) {
    super(message);
    this.name = "ChatRelayError";
    this.code = code;
    this.cid = cid;
  }
}

/** Compares two stream ids (`MS-SEQ`): negative, zero or positive. */
export function compareIds(a, b) {
  const [am, as = "0"] = String(a).split("-");
  const [bm, bs = "0"] = String(b).split("-");
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  return Number(as) - Number(bs);
}

export class WsRequest {
  /**
   * @param url the WebSocket endpoint up to the user id, as in the tutorial (`ws://host:4000/ws`); an array of them is
   *   tried in turn on reconnects (behind a load balancer, one is enough)
   * @param userId the user to connect as
   * @param options `token` (a JWT, under `--auth jwt`) or `getToken` (returns a promise of a fresh one; called before
   *   the token expires and to reconnect), `reconnect` (default true), `minDelay` and `maxDelay` of the
   *   reconnect backoff in ms (500, 15000), `pingInterval` in ms (20000; a socket silent for half of it after a ping
   *   is dropped and reconnected), `cursors` ({friendship: last id seen}) to resume from, `WebSocket` (a constructor,
   *   for tests or Node)
   */
  constructor(url, userId, options = {}) {
    this.urls = Array.isArray(url) ? url.slice() : [url];
    this.userId = userId;
    this.options = { reconnect: true, minDelay: 500, maxDelay: 15000, pingInterval: 20000, ...options };
    this.state = "closed";
    this._handlers = new Map();
    this._pending = new Map(); // cid -> { frame, resolve, reject, attempts }
    this._requests = new Map(); // rid -> { resolve, reject }
    this._cursors = new Map(Object.entries(options.cursors || {})); // friendship -> newest id delivered
    this._seen = new Map(); // friendship -> Set of ids above the cursor (own acked sends)
    this._nextNumber = 0;
    this._urlIndex = 0;
    this._attempt = 0;
    this._closedByUser = false;
    this._firstOpen = null;
    this._lastTyping = new Map();
    this._token = options.token || null;
    this._needToken = !this._token;
    this._connect();
  }

  /**
   * `message`, `presence`, `typing`, `read`, `broadcast`, `unfriended` ({friend}), `state` (connecting, open, closed),
   * `error`, `synced` ({truncated: friendships whose older messages retention dropped}),
   * `disconnect` ({code, reason}), `refreshed` ({exp}), `ended` ({code, reason}: 4003 or 4004, no more reconnects).
   */
  on(name, handler) {
    if (!this._handlers.has(name)) this._handlers.set(name, new Set());
    this._handlers.get(name).add(handler);
    return () => this.off(name, handler);
  }

  off(name, handler) {
    this._handlers.get(name)?.delete(handler);
  }

  /**
   * Sends a message; the promise settles with the ack, `{id, ts}`, or rejects with the error frame's
   * ChatRelayError. Sent at once when the socket is open, else when it opens; resent with the same cid after a
   * reconnect until acked (the relay stores it once). `unavailable` answers are retried with backoff (5 times).
   */
  send(friendId, content, receiverId, type = "text") {
    const cid = this._cid();
    const frame = { friend: friendId, from: this.userId, content, type, cid };
    if (receiverId !== undefined && receiverId !== null) frame.to = receiverId;
    return new Promise((resolve, reject) => {
      this._pending.set(cid, { frame, resolve, reject, attempts: 0 });
      if (this.state === "open" && !this._syncing) this._write(frame);
    });
  }

  /** Tells the friend that this user is typing; sent at most once every 2 s per friendship. */
  typing(friendId) {
    const now = Date.now();
    if (now - (this._lastTyping.get(friendId) || 0) < 2000) return;
    this._lastTyping.set(friendId, now);
    this._write({ op: "typing", friend: friendId });
  }

  /** Marks the friendship read up to `id` (the relay ignores a mark older than the one it has). */
  read(friendId, id) {
    this._write({ op: "read", friend: friendId, id });
  }

  /**
   * Up to `limit` messages (50, at most 500) older than `before` (default: the newest), oldest first. Pass the first
   * id of a page as the next call's `before` to page back.
   */
  history(friendId, { before, limit } = {}) {
    const rid = this._cid();
    const frame = { op: "history", friend: friendId, rid, cid: rid };
    if (before) frame.before = before;
    if (limit) frame.limit = limit;
    return this._request(rid, frame).then((answer) => {
      const messages = answer.messages || [];
      const newest = messages[messages.length - 1];
      if (newest) this._advance(friendId, newest.id);
      return messages;
    });
  }

  /** The newest id delivered per friendship: what a later `cursors` option resumes from. */
  get cursors() {
    return Object.fromEntries(this._cursors);
  }

  /** Closes for good: no reconnect; unacked sends and pending requests reject. */
  close() {
    if (this._socket) this._socket.close(1000, "bye");
    this._end(new ChatRelayError("closed", "the client was closed"));
  }

  // ---- inside ----

  /** No more reconnects: unacked sends and pending requests reject with `gone`. */
  _end(gone) {
    this._closedByUser = true;
    clearTimeout(this._retryTimer);
    clearTimeout(this._refreshTimer);
    this._stopPinging();
    this._setState("closed");
    for (const { reject } of this._pending.values()) reject(gone);
    for (const { reject } of this._requests.values()) reject(gone);
    this._pending.clear();
    this._requests.clear();
  }

  _cid() {
    this._nextNumber += 1;
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${this._nextNumber}`;
  }

  _emit(name, value) {
    for (const handler of this._handlers.get(name) || []) {
      try {
        handler(value);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
  }

  _url() {
    const base = this.urls[this._urlIndex % this.urls.length].replace(/\/+$/, "");
    return `${base}/${encodeURIComponent(this.userId)}`;
  }

  async _connect() {
    if (this._closedByUser) return;
    this._setState("connecting");
    const getToken = this.options.getToken;
    if (getToken && (this._needToken || this._expiresWithin(this._token, 5000))) {
      try {
        this._token = await getToken();
        this._needToken = false;
      } catch {
        this._scheduleReconnect();
        return;
      }
      if (this._closedByUser) return;
    }
    const Socket = this.options.WebSocket || globalThis.WebSocket;
    let socket;
    try {
      socket = this._token ? new Socket(this._url(), ["chatrelay", `chatrelay.token.${this._token}`]) : new Socket(this._url());
    } catch (error) {
      this._scheduleReconnect();
      return;
    }
    this._socket = socket;
    socket.onopen = () => this._opened(socket);
    socket.onmessage = (event) => this._received(socket, event.data);
    socket.onclose = (event) => this._closed(socket, event);
    socket.onerror = () => {}; // a close event follows
  }

  /** Unix seconds of a JWT's `exp`, read without checking it (the relay checks it); null when it has none. */
  _expiryOf(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const exp = JSON.parse(atob(payload)).exp;
      return typeof exp === "number" ? exp : null;
    } catch {
      return null;
    }
  }

  _expiresWithin(token, ms) {
    const exp = token ? this._expiryOf(token) : null;
    return exp !== null && exp * 1000 - Date.now() < ms;
  }

  /** Asks for a new token a quarter of the remaining life before `exp` (2 s to a minute ahead), and refreshes in band. */
  _scheduleRefresh(exp) {
    clearTimeout(this._refreshTimer);
    if (!this.options.getToken || typeof exp !== "number") return;
    const left = exp * 1000 - Date.now();
    const margin = Math.max(2000, Math.min(60000, left / 4));
    this._refreshTimer = setTimeout(() => this._refresh(), Math.max(0, left - margin));
  }

  async _refresh() {
    let token;
    try {
      token = await this.options.getToken();
    } catch {
      return; // the node closes the socket at exp (4001), and the reconnect asks again
    }
    this._token = token;
    this._refreshCid = this._cid();
    this._write({ op: "refresh", token, cid: this._refreshCid });
  }

  _opened(socket) {
    if (socket !== this._socket) return;
    socket._chatrelayOpened = true;
    this._attempt = 0;
    this._scheduleRefresh(this._token ? this._expiryOf(this._token) : null);
    const reconnected = this._firstOpen !== null;
    if (!reconnected) this._firstOpen = Date.now();
    this._setState("open");
    this._startPinging();
    if (reconnected) {
      // Everything after the last id seen per friendship; friendships not seen since the first opening (a minute of
      // slack for the browser's clock) replay from then. Sends wait for `synced`, so replies keep their order.
      this._syncing = true;
      this._syncCid = this._cid();
      this._write({ op: "sync", cursors: this.cursors, since: `${this._firstOpen - 60000}-0`, cid: this._syncCid });
    } else {
      this._flushPending();
    }
    for (const [rid, request] of this._requests) this._write(request.frame);
  }

  _flushPending() {
    for (const { frame } of this._pending.values()) this._write(frame);
  }

  _closed(socket, event) {
    if (socket !== this._socket) return;
    this._socket = null;
    this._syncing = false;
    this._stopPinging();
    clearTimeout(this._refreshTimer);
    if (this._closedByUser) return;
    if (event.code === 4003 || event.code === 4004) {
      const why = event.code === 4003 ? "disconnected or blocked by an admin" : "the account was erased";
      this._emit("disconnect", { code: event.code, reason: event.reason });
      this._end(new ChatRelayError("ended", why));
      this._emit("ended", { code: event.code, reason: event.reason || why });
      return;
    }
    // An expired token (4001), or an upgrade refused before it opened (a 401 looks like that): a new token first.
    if (event.code === 4001 || !socket._chatrelayOpened) this._needToken = true;
    // 1008 with a policy reason other than a slow consumer, or a refused upgrade that keeps failing, still retries:
    // the page decides when to give up by calling close().
    this._emit("disconnect", { code: event.code, reason: event.reason });
    if (!this.options.reconnect) {
      this._setState("closed");
      return;
    }
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    this._setState("connecting");
    this._urlIndex += 1;
    const ceiling = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** this._attempt);
    this._attempt += 1;
    // Full jitter: thousands of clients of a drained node do not come back in step.
    const delay = this._attempt === 1 ? Math.random() * this.options.minDelay : Math.random() * ceiling;
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => this._connect(), delay);
  }

  _startPinging() {
    this._stopPinging();
    this._lastFrame = Date.now();
    const interval = this.options.pingInterval;
    if (!interval) return;
    this._pingTimer = setInterval(() => {
      if (Date.now() - this._lastFrame > interval * 1.5) {
        // No answer to the last ping: the connection is dead though the browser has not noticed.
        this._socket?.close(4000, "no answer");
        if (this._socket) this._closed(this._socket, { code: 4000, reason: "no answer" });
        return;
      }
      this._write({ op: "ping" });
    }, interval);
  }

  _stopPinging() {
    clearInterval(this._pingTimer);
  }

  _write(frame) {
    if (!this._socket || this._socket.readyState !== OPEN) return false;
    this._socket.send(JSON.stringify(frame));
    return true;
  }

  _request(rid, frame) {
    return new Promise((resolve, reject) => {
      this._requests.set(rid, { frame, resolve, reject });
      this._write(frame);
    });
  }

  _received(socket, data) {
    if (socket !== this._socket) return;
    this._lastFrame = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.op) {
      case undefined:
        if (frame.id !== undefined) this._message(frame);
        return;
      case "ack":
        return this._ack(frame);
      case "error":
        return this._error(frame);
      case "history": {
        const request = this._requests.get(frame.rid);
        if (!request) return;
        this._requests.delete(frame.rid);
        return request.resolve(frame);
      }
      case "refreshed":
        this._scheduleRefresh(frame.exp);
        return this._emit("refreshed", { exp: frame.exp });
      case "synced":
        this._syncing = false;
        this._flushPending();
        // Friendships whose messages after the cursor were partly dropped by the relay's retention.
        return this._emit("synced", { truncated: frame.truncated || [] });
      case "unfriended":
        this._cursors.delete(frame.friend);
        this._seen.delete(frame.friend);
        return this._emit("unfriended", frame);
      case "presence":
      case "typing":
      case "read":
      case "broadcast":
        return this._emit(frame.op, frame);
      default:
        return;
    }
  }

  _message(frame) {
    const cursor = this._cursors.get(frame.friend);
    if (cursor && compareIds(frame.id, cursor) <= 0) return;
    const seen = this._seen.get(frame.friend);
    if (seen?.has(frame.id)) return;
    this._advance(frame.friend, frame.id);
    this._emit("message", frame);
  }

  /** The cursor moves to `id`; own ids at or below it need no remembering. */
  _advance(friendId, id) {
    const cursor = this._cursors.get(friendId);
    if (cursor && compareIds(id, cursor) <= 0) return;
    this._cursors.set(friendId, id);
    const seen = this._seen.get(friendId);
    if (seen) for (const own of seen) if (compareIds(own, id) <= 0) seen.delete(own);
  }

  _ack(frame) {
    const pending = this._pending.get(frame.cid);
    if (!pending) return;
    this._pending.delete(frame.cid);
    const friendId = pending.frame.friend;
    // Own messages never come back on this socket, but a sync from an older cursor replays them: remember the id.
    if (!this._seen.has(friendId)) this._seen.set(friendId, new Set());
    this._seen.get(friendId).add(frame.id);
    pending.resolve({ id: frame.id, ts: frame.ts });
  }

  _error(frame) {
    const error = new ChatRelayError(frame.code, frame.message, frame.cid);
    const pending = frame.cid !== undefined ? this._pending.get(frame.cid) : undefined;
    if (pending) {
      if (frame.code === "unavailable" && pending.attempts < 5) {
        pending.attempts += 1;
        setTimeout(() => {
          if (this._pending.get(frame.cid) === pending && this.state === "open") this._write(pending.frame);
        }, 250 * 2 ** pending.attempts);
        return;
      }
      this._pending.delete(frame.cid);
      return pending.reject(error);
    }
    const request = frame.cid !== undefined ? this._requests.get(frame.cid) : undefined;
    if (request) {
      this._requests.delete(frame.cid);
      return request.reject(error);
    }
    if (this._syncing && frame.cid === this._syncCid) {
      // A sync refused (a friendship gone, say): the sends that waited for it go out all the same.
      this._syncing = false;
      this._flushPending();
    }
    this._emit("error", error);
  }
}

export default WsRequest;
