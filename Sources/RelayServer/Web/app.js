// The chat page: signs in, lists friends with presence and unread state, and chats through chatrelay.js.
import { WsRequest, compareIds } from "/chatrelay.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

/** What the page knows per friendship. */
class Conversation {
  constructor(entry) {
    this.id = entry.friend;
    this.friend = entry.user;
    this.name = entry.name;
    this.online = entry.online;
    this.last = entry.last;
    this.read = entry.read;
    this.friendRead = entry.friend_read;
    this.messages = new Map(); // id -> message
    this.pending = []; // own sends without an ack yet: { key, content, type, failed }
    this.loaded = false;
    this.oldest = null;
    this.hasOlder = true;
    this.typingUntil = 0;
  }

  get unread() {
    return this.last && (!this.read || compareIds(this.last, this.read) > 0);
  }

  add(message) {
    this.messages.set(message.id, message);
    if (!this.last || compareIds(message.id, this.last) > 0) this.last = message.id;
    if (!this.oldest || compareIds(message.id, this.oldest) < 0) this.oldest = message.id;
  }

  sorted() {
    return [...this.messages.values()].sort((a, b) => compareIds(a.id, b.id));
  }
}

const page = {
  me: null,
  token: null,
  client: null,
  conversations: new Map(), // friendship id -> Conversation
  byFriend: new Map(), // friend's user id -> Conversation
  open: null,
};

function authHeaders() {
  return page.token ? { Authorization: `Bearer ${page.token}` } : {};
}

async function api(path) {
  const response = await fetch(path, { headers: authHeaders() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `${path}: ${response.status}`);
  return body;
}

/** The `sub` of a JWT, read without checking it (the relay checks it). */
function subjectOf(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload)).sub;
}

/**
 * The page opens sockets to its own origin only: `?servers=` may list several URLs of it (for tests of reconnects),
 * and any other is dropped, so that a link cannot send the user's token to another host.
 */
function socketURLs() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const own = `${scheme}://${location.host}/ws`;
  const listed = (params.get("servers") || "").split(",").filter((url) => {
    try {
      const parsed = new URL(url);
      return parsed.protocol === `${scheme}:` && parsed.host === location.host;
    } catch {
      return false;
    }
  });
  return listed.length > 0 ? listed : [own];
}

async function signIn(who) {
  who = who.trim();
  if (who.split(".").length === 3) {
    page.token = who;
    sessionStorage.setItem("chatrelay.token", who);
    page.me = await api(`/api/users/${encodeURIComponent(subjectOf(who))}`);
  } else {
    try {
      page.me = await api(`/api/users/${encodeURIComponent(who)}`);
    } catch {
      page.me = await api(`/api/usernames/${encodeURIComponent(who)}`);
    }
  }
  const { friends } = await api(`/api/users/${encodeURIComponent(page.me.id)}/friends`);
  for (const entry of friends) {
    const conversation = new Conversation(entry);
    page.conversations.set(conversation.id, conversation);
    page.byFriend.set(conversation.friend, conversation);
  }
  $("signin").hidden = true;
  $("app").hidden = false;
  $("app").dataset.pane = "friends";
  $("me").textContent = page.me.name;
  document.title = `${page.me.name} · ChatRelay`;
  connect();
  renderFriends();
  const first = params.get("friend");
  if (first) openConversation(page.byFriend.get(first) || page.conversations.get(first));
}

/**
 * A fresh token for the socket: from `window.chatrelayTokenProvider` when the page that embeds or opens this one set
 * it (an app's sign-in, or a test), else the token the user signed in with, which works until it expires.
 */
async function freshToken() {
  if (typeof window.chatrelayTokenProvider === "function") page.token = await window.chatrelayTokenProvider();
  return page.token;
}

function connect() {
  const client = new WsRequest(socketURLs(), page.me.id, page.token ? { token: page.token, getToken: freshToken } : {});
  page.client = client;
  client.on("state", (state) => {
    const badge = $("connection");
    badge.dataset.state = state;
    badge.textContent = state === "open" ? "online" : state === "connecting" ? "reconnecting…" : "offline";
  });
  client.on("ended", ({ code }) => {
    const badge = $("connection");
    badge.dataset.state = "ended";
    badge.textContent = code === 4003 ? "signed out by an admin" : "account erased";
    // An erased account signs out: the page forgets its token and shows the sign-in form again.
    if (code === 4004) {
      sessionStorage.removeItem("chatrelay.token");
      $("app").hidden = true;
      $("signin").hidden = false;
      $("signin-error").textContent = "This account was erased.";
    }
  });
  client.on("message", (message) => {
    const conversation = page.conversations.get(message.friend);
    if (!conversation) return;
    conversation.add(message);
    if (message.from === conversation.friend) conversation.typingUntil = 0;
    if (conversation === page.open) {
      renderStatus();
      renderMessages({ stickToBottom: true });
      markRead(conversation);
    }
    renderFriends();
  });
  client.on("presence", (event) => {
    const conversation = page.byFriend.get(event.user);
    if (!conversation) return;
    conversation.online = event.online;
    renderFriends();
    if (conversation === page.open) renderStatus();
  });
  client.on("typing", (event) => {
    const conversation = page.conversations.get(event.friend);
    if (!conversation) return;
    conversation.typingUntil = Date.now() + 4000;
    if (conversation === page.open) renderStatus();
    setTimeout(() => conversation === page.open && renderStatus(), 4100);
  });
  client.on("read", (event) => {
    const conversation = page.conversations.get(event.friend);
    if (!conversation) return;
    if (event.user === page.me.id) {
      if (!conversation.read || compareIds(event.id, conversation.read) > 0) conversation.read = event.id;
      renderFriends();
    } else if (!conversation.friendRead || compareIds(event.id, conversation.friendRead) > 0) {
      conversation.friendRead = event.id;
      if (conversation === page.open) renderMessages();
    }
  });
  // An ended friendship leaves the list, and the conversation closes if it was open.
  client.on("unfriended", (event) => {
    const conversation = page.conversations.get(event.friend);
    if (!conversation) return;
    page.conversations.delete(conversation.id);
    page.byFriend.delete(conversation.friend);
    if (page.open === conversation) {
      page.open = null;
      $("chat").hidden = true;
      $("empty").hidden = false;
      $("app").dataset.pane = "friends";
    }
    renderFriends();
  });
  client.on("broadcast", (event) => {
    $("typing").textContent = `📣 ${event.content}`;
  });
}

async function openConversation(conversation) {
  if (!conversation) return;
  page.open = conversation;
  $("empty").hidden = true;
  $("chat").hidden = false;
  $("app").dataset.pane = "chat";
  $("chat-name").textContent = conversation.name;
  renderFriends();
  renderStatus();
  renderMessages({ stickToBottom: true });
  if (!conversation.loaded) {
    conversation.loaded = true;
    await loadOlder(conversation);
    renderMessages({ stickToBottom: true });
  }
  markRead(conversation);
  $("text").focus();
}

async function loadOlder(conversation) {
  if (!conversation.hasOlder || conversation.loadingOlder) return;
  conversation.loadingOlder = true;
  $("older").hidden = false;
  try {
    const before = conversation.messages.size ? conversation.oldest : undefined;
    const messages = await page.client.history(conversation.id, { before, limit: 30 });
    for (const message of messages) conversation.add(message);
    if (messages.length < 30) conversation.hasOlder = false;
  } finally {
    conversation.loadingOlder = false;
    $("older").hidden = true;
  }
}

function markRead(conversation) {
  if (document.visibilityState === "hidden" || !conversation.last) return;
  const newest = conversation.sorted().filter((message) => message.from !== page.me.id).pop();
  if (!newest) return;
  if (!conversation.read || compareIds(newest.id, conversation.read) > 0) {
    conversation.read = newest.id;
    page.client.read(conversation.id, newest.id);
    renderFriends();
  }
}

function renderFriends() {
  const list = $("friends");
  list.replaceChildren();
  const sorted = [...page.conversations.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const conversation of sorted) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "friend";
    button.dataset.friend = conversation.friend;
    button.dataset.online = String(conversation.online);
    button.dataset.unread = String(Boolean(conversation.unread) && conversation !== page.open);
    button.setAttribute("aria-current", String(conversation === page.open));
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.dataset.online = String(conversation.online);
    dot.title = conversation.online ? "online" : "offline";
    const name = document.createElement("span");
    name.className = "friend-name";
    name.textContent = conversation.name;
    button.append(dot, name);
    if (button.dataset.unread === "true") {
      const badge = document.createElement("span");
      badge.className = "unread";
      badge.textContent = "new";
      button.append(badge);
    }
    button.addEventListener("click", () => openConversation(conversation));
    item.append(button);
    list.append(item);
  }
}

function renderStatus() {
  const conversation = page.open;
  if (!conversation) return;
  const typing = conversation.typingUntil > Date.now();
  $("typing").textContent = typing ? `${conversation.name} is typing…` : "";
  $("chat-status").textContent = conversation.online ? "online" : "offline";
  $("chat-status").dataset.online = String(conversation.online);
}

function time(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function messageItem({ id, from, content, type, ts, state }) {
  const item = document.createElement("li");
  const mine = from === page.me.id;
  item.className = `message${mine ? " mine" : ""}${type === "emoji" ? " emoji" : ""}`;
  if (id) item.dataset.id = id;
  item.dataset.from = from;
  if (type === "file" && /^https?:\/\//.test(content)) {
    const link = document.createElement("a");
    link.href = content;
    link.textContent = content;
    link.target = "_blank";
    link.rel = "noopener";
    item.append(link);
  } else {
    item.append(document.createTextNode(content));
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  const parts = [ts ? time(ts) : ""];
  if (mine) {
    item.dataset.state = state;
    parts.push({ sending: "sending…", stored: "✓", read: "✓✓ read", failed: "not sent" }[state]);
  }
  meta.textContent = parts.filter(Boolean).join(" · ");
  item.append(meta);
  return item;
}

function renderMessages({ stickToBottom = false } = {}) {
  const conversation = page.open;
  if (!conversation) return;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const fromBottom = box.scrollHeight - box.scrollTop;
  const list = $("message-list");
  list.replaceChildren();
  for (const message of conversation.sorted()) {
    const read = conversation.friendRead && compareIds(message.id, conversation.friendRead) <= 0;
    list.append(messageItem({ ...message, state: read ? "read" : "stored" }));
  }
  for (const pending of conversation.pending) {
    list.append(messageItem({ from: page.me.id, content: pending.content, type: pending.type, state: pending.failed ? "failed" : "sending" }));
  }
  if (stickToBottom || atBottom) box.scrollTop = box.scrollHeight;
  else box.scrollTop = box.scrollHeight - fromBottom;
}

async function send(content, type) {
  const conversation = page.open;
  if (!conversation || !content) return;
  const pending = { content, type, failed: false };
  conversation.pending.push(pending);
  renderMessages({ stickToBottom: true });
  try {
    const ack = await page.client.send(conversation.id, content, conversation.friend, type);
    conversation.pending.splice(conversation.pending.indexOf(pending), 1);
    conversation.add({ id: ack.id, ts: ack.ts, friend: conversation.id, from: page.me.id, to: conversation.friend, content, type });
  } catch (error) {
    pending.failed = true;
    console.warn("send refused:", error.code, error.message);
  }
  if (conversation === page.open) renderMessages({ stickToBottom: true });
}

function wire() {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    try {
      await signIn($("signin-who").value);
    } catch (error) {
      $("signin-error").textContent = `Cannot sign in: ${error.message}`;
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    $("text").value = "";
    send(text, "text");
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("text").addEventListener("input", () => {
    if (page.open && $("text").value) page.client.typing(page.open.id);
  });
  for (const button of document.querySelectorAll("[data-emoji]")) {
    button.addEventListener("click", () => send(button.dataset.emoji, "emoji"));
  }
  $("messages").addEventListener("scroll", async () => {
    const conversation = page.open;
    if (!conversation || $("messages").scrollTop > 30 || !conversation.hasOlder) return;
    await loadOlder(conversation);
    if (conversation === page.open) renderMessages();
  });
  $("back").addEventListener("click", () => {
    $("app").dataset.pane = "friends";
  });
  document.addEventListener("visibilitychange", () => page.open && markRead(page.open));
}

wire();
// For the browser's devtools (and the browser tests): the page's state and its client.
window.chatrelay = page;
// A token given in the page's address (a link from a sign-in) leaves it at once: not kept in the address bar or in
// the browser's history, where anyone at the machine would find it. The tab keeps it for reloads.
if (params.has("token")) {
  sessionStorage.setItem("chatrelay.token", params.get("token"));
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : "") + location.hash);
}
const who = params.get("user") || sessionStorage.getItem("chatrelay.token");
if (who) {
  signIn(who).catch((error) => {
    $("signin").hidden = false;
    $("signin-error").textContent = `Cannot sign in: ${error.message}`;
  });
} else {
  $("signin").hidden = false;
}
