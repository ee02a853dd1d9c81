/* The public shapes of the protocol client (see index.ts). Framework-free: no DOM, no React. */
import type { ErrorCode, ReactionCount, ReplyPreview, RoomSummary } from "./protocol";
import type { KeyValueStore } from "./storage";
import type { ChatRequestError } from "./errors";
import type { NotificationSettings } from "./notifications";

export type ConnectionState =
  | { status: "connecting"; attempt: number }
  | { status: "online"; since: number }
  | { status: "reconnecting"; attempt: number; retryAt: number; reason: string } // retryAt: epoch ms
  | { status: "offline"; reason: string } // stopped, or the runtime says it is offline; retried when back
  | { status: "signedOut"; reason: string }; // token refused and refresh failed: the app must sign in again

/** What the client needs of a WebSocket: the browser's, React Native's and `ws` all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `any` so that the DOM's WebSocket (whose handlers take Event subclasses) is assignable.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

export interface ClientOptions {
  url: string; // config.websocketUrl; the client appends ?token=
  getToken(options?: { forceRefresh?: boolean }): Promise<string>; // from the auth module
  storage?: KeyValueStore; // persisted outbox + read markers + last seqs (default: memory)
  createSocket?: (url: string) => WebSocketLike; // default: globalThis.WebSocket
  random?: () => number; // for tests (jitter)
  now?: () => number; // for tests (time)
  randomUUID?: () => string; // for tests (clientMsgId); default globalThis.crypto.randomUUID
  backoffBaseMs?: number; // 500
  backoffCapMs?: number; // 30 s
  pingIntervalMs?: number; // 5 min: well inside API Gateway's 10-minute idle timeout
  maxConnectionAgeMs?: number; // 1 h 50 min: renewed before API Gateway's 2-hour limit
  stableAfterMs?: number; // 10 s open before the backoff resets
  requestTimeoutMs?: number; // 15 s: a missing reply means a dead socket
  sendTimeoutMs?: number; // 30 s: a contended send may take up to 25 s on the server (API Gateway gives 29 s)
  typingExpiryMs?: number; // 6 s
  typingThrottleMs?: number; // 3 s
  maxSendAttempts?: number; // 5 automatic attempts, then failed
}

export type MessageStatus = "pending" | "sent" | "failed";
export type ClientErrorCode = ErrorCode | "timeout" | "offline";

export interface ChatMessage {
  key: string; // stable React key: clientMsgId for own messages, else message id
  id: string | null; // null while pending
  roomId: string;
  seq: number | null; // null while pending
  senderId: string;
  senderName: string;
  content: string;
  createdAt: string;
  clientMsgId: string;
  replyToId: string | null;
  /** The parent's preview as the server gave it (null while pending, or for no reply). */
  replyTo: ReplyPreview | null;
  /** 0 until first edited, deleted or reacted to; a higher version is the newer state. */
  version: number;
  editedAt: string | null;
  /** A deleted message is a tombstone: empty content, no reactions. */
  deletedAt: string | null;
  reactions: ReactionCount[];
  /** The user's own reactions (kept from replies, moved by own reaction frames). */
  myReactions: Emoji[];
  status: MessageStatus;
  /** When failed. `retryAt` (epoch ms) means the client retries by itself then (rate_limited, unavailable). */
  error?: { code: ClientErrorCode; message: string; retryAt?: number };
}

export type Emoji = ReactionCount["emoji"];

export interface TypingUser {
  userId: string;
  userName: string;
  until: number;
}

export interface RoomState {
  room: RoomSummary; // kept current from room/message pushes
  messages: ChatMessage[]; // loaded messages ordered by seq, deduped, then own pending/failed ones
  hasOlder: boolean;
  loadingOlder: boolean;
  lastSeq: number; // highest seq known for the room
  readSeq: number; // the read marker: the server's, moved forward by this device (persisted) and other devices
  unreadCount: number; // messages from others after readSeq (the server's count, kept current)
  /** Other members' read markers (read receipts, in rooms of at most 100 members), by user id. */
  readBy: Record<string, number>;
  /** Whether the user may manage the group (add, remove, rename, delete any message). */
  isAdmin: boolean;
  typing: TypingUser[]; // expire by themselves (~6 s) even if no isTyping:false arrives
}

export interface UserState {
  id: string;
  name: string;
  avatarUrl: string | null;
  online: boolean;
  lastSeen: string | null;
}

export interface ChatSnapshot {
  connection: ConnectionState;
  me: { id: string; name: string } | null;
  rooms: RoomState[]; // sorted by latest activity, newest first
  users: Record<string, UserState>; // everyone seen (members, search results, presence)
  roomsLoaded: boolean;
  /** The notification settings and the server's push key; null until the server told them. */
  notifications: NotificationSettings | null;
}

export type ChatEvent =
  | { type: "connection"; state: ConnectionState }
  | { type: "message"; message: ChatMessage; live: boolean } // live: pushed now (announce), not loaded history
  | { type: "typing"; roomId: string; users: TypingUser[] }
  | { type: "presence"; user: UserState }
  | { type: "room"; room: RoomSummary }
  | { type: "roomLeft"; roomId: string }
  | { type: "removed"; roomId: string; byUserId: string; room: RoomSummary | null } // an admin removed the user
  | { type: "error"; error: ChatRequestError }; // errors not tied to an awaited request
