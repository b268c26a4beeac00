// Types of chatrelay.js, the browser client of ChatRelay (contract v3).

/** A delivered message, as the relay sends it. Unknown fields may be present. */
export interface ChatMessage {
  id: string;
  friend: string;
  from: string;
  to: string;
  content: string;
  type: "text" | "emoji" | "file";
  ts: number;
}

export interface Ack {
  id: string;
  ts: number;
}

export interface PresenceEvent {
  op: "presence";
  user: string;
  online: boolean;
  ts: number;
}

export interface TypingEvent {
  op: "typing";
  friend: string;
  user: string;
  ts: number;
}

export interface ReadEvent {
  op: "read";
  friend: string;
  user: string;
  id: string;
}

export interface BroadcastEvent {
  op: "broadcast";
  content: string;
  type: string;
  ts: number;
}

export type ConnectionState = "connecting" | "open" | "closed";

export interface ChatRelayEvents {
  message: ChatMessage;
  presence: PresenceEvent;
  typing: TypingEvent;
  read: ReadEvent;
  broadcast: BroadcastEvent;
  state: ConnectionState;
  /** After a reconnect's replay; `truncated` names friendships whose messages after the cursor retention dropped. */
  synced: { truncated: string[] };
  /** The friendship ended (unfriended, or the friend's account erased). */
  unfriended: { op: "unfriended"; friend: string };
  disconnect: { code: number; reason: string };
  /** The socket's token was refreshed in band: it now lives until `exp` (Unix seconds). */
  refreshed: { exp: number };
  /** 4003 (disconnected or blocked by an admin) or 4004 (the account was erased): the client stopped for good. */
  ended: { code: number; reason: string };
  error: ChatRelayError;
}

export interface WsRequestOptions {
  /** A JWT whose `sub` is the user, under `--auth jwt`; sent as a subprotocol, never in the URL. */
  token?: string;
  /**
   * Returns a fresh JWT for the user. Called before the current token expires (the open socket is refreshed in
   * band), and before reconnecting after an expired token (4001) or a socket that never opened (a refused upgrade).
   */
  getToken?: () => Promise<string>;
  /** Reconnect after the socket drops (default true). */
  reconnect?: boolean;
  /** Reconnect backoff bounds in ms (500 and 15000); each wait is random below the bound (full jitter). */
  minDelay?: number;
  maxDelay?: number;
  /** Ms between application pings (20000); 0 turns them off. */
  pingInterval?: number;
  /** The newest id seen per friendship, to resume from (see `cursors`). */
  cursors?: Record<string, string>;
  /** A WebSocket constructor, where the global one is missing. */
  WebSocket?: typeof WebSocket;
}

/** An error frame from the relay (`code` is the contract's: bad_message, forbidden, not_friends, ...). */
export class ChatRelayError extends Error {
  readonly code: string;
  readonly cid?: string;
}

/** Negative, zero or positive as stream id `a` is before, equal to or after `b`. */
export function compareIds(a: string, b: string): number;

export class WsRequest {
  constructor(url: string | string[], userId: string, options?: WsRequestOptions);
  readonly userId: string;
  readonly state: ConnectionState;
  /** The newest id delivered per friendship. */
  readonly cursors: Record<string, string>;
  on<K extends keyof ChatRelayEvents>(name: K, handler: (value: ChatRelayEvents[K]) => void): () => void;
  off<K extends keyof ChatRelayEvents>(name: K, handler: (value: ChatRelayEvents[K]) => void): void;
  /** Resolves with the ack once Redis stored it; rejects with the error frame. */
  send(friendId: string, content: string, receiverId?: string, type?: "text" | "emoji" | "file"): Promise<Ack>;
  typing(friendId: string): void;
  read(friendId: string, id: string): void;
  history(friendId: string, page?: { before?: string; limit?: number }): Promise<ChatMessage[]>;
  close(): void;
}

export default WsRequest;
