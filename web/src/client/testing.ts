/* Test support for the protocol client: a fake WebSocket that records frames and lets a test play the server.
 * Imported by the *.test.ts files only (never by index.ts, so it stays out of the app bundle). */
import { vi } from "vitest";
import { ChatClient } from "./client";
import type { Message, RoomNews, RoomSummary } from "./protocol";
import { memoryStore, type KeyValueStore } from "./storage";
import type { ClientOptions, WebSocketLike } from "./types";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Frame = Record<string, any>;

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Frame[] = [];
  private readonly answered = new Set<string>();
  closedByClient = false;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  get token(): string | null {
    return new URL(this.url).searchParams.get("token");
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
    this.sent.push(JSON.parse(data) as Frame);
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }

  // ---- the server's side ----

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  push(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The connection drops (or, before `open()`, the upgrade is refused: the browser sees 1006 only). */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  /** Node's WebSocket (undici) on a refused upgrade: an error event and no close. */
  fail(): void {
    this.readyState = 3;
    this.onerror?.({});
  }

  frames(action: string): Frame[] {
    return this.sent.filter((frame) => frame.action === action);
  }

  /** The oldest frame of `action` not answered yet. */
  pending(action: string): Frame | undefined {
    return this.sent.find((frame) => frame.action === action && !this.answered.has(frame.requestId));
  }

  /** Answers the oldest unanswered frame of `action` with `reply` (its requestId echoed). */
  answer(action: string, reply: Frame): Frame {
    const request = this.pending(action);
    if (!request) throw new Error(`no unanswered ${action} frame; sent: ${JSON.stringify(this.sent.map((f) => f.action))}`);
    this.answered.add(request.requestId);
    this.push({ ...reply, requestId: request.requestId });
    return request;
  }

  answerError(action: string, code: string, extra: Frame = {}): Frame {
    const request = this.pending(action);
    return this.answer(action, {
      type: "error",
      code,
      message: `${code} message`,
      action,
      ...(request?.clientMsgId ? { clientMsgId: request.clientMsgId } : {}),
      ...extra,
    });
  }
}

/** A small seeded generator (mulberry32): jitter that is random yet the same on every run. */
export function seededRandom(seed = 42): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uuidCounter(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
}

export const ME = { id: "u-me", name: "Me" };
export const BOB = { id: "u-bob", name: "Bob" };

export function room(id: string, changes: Partial<RoomSummary> = {}): RoomSummary {
  return {
    id,
    name: `Room ${id}`,
    isGroup: true,
    memberIds: [ME.id, BOB.id],
    createdAt: "2025-01-01T00:00:00.000Z",
    memberCount: 2,
    adminIds: [ME.id],
    lastSeq: 0,
    lastMessage: null,
    readSeq: 0,
    lastVersion: 0,
    muted: false,
    ...changes,
    // The server's count: the messages after the marker (the tests' rooms hold others' messages).
    unreadCount: changes.unreadCount ?? Math.max(0, (changes.lastSeq ?? 0) - (changes.readSeq ?? 0)),
  };
}

export function message(roomId: string, seq: number, changes: Partial<Message> = {}): Message {
  return {
    id: `${roomId}-m${seq}`,
    roomId,
    seq,
    senderId: BOB.id,
    senderName: BOB.name,
    content: `message ${seq}`,
    createdAt: new Date(Date.UTC(2025, 0, 2, 0, 0, seq)).toISOString(),
    clientMsgId: `10000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    replyToId: null,
    replyTo: null,
    version: 0,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    myReactions: null,
    ...changes,
  };
}

/** One room's news in a `sync` page. */
export function news(roomId: string, messages: Message[], changes: Partial<RoomNews> = {}): RoomNews {
  const lastSeq = messages.at(-1)?.seq ?? 0;
  return {
    roomId, lastSeq, lastVersion: 0, readSeq: 0, unreadCount: lastSeq, messages, hasMore: false, changes: [], version: 0,
    changesHaveMore: false, ...changes,
  };
}

/** Lets promise callbacks (token fetch, replies) and due zero-delay timers run. */
export async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

export interface Harness {
  client: ChatClient;
  sockets: FakeSocket[];
  socket(): FakeSocket;
  storage: KeyValueStore;
  getToken: ReturnType<typeof vi.fn<(options?: { forceRefresh?: boolean }) => Promise<string>>>;
  /** start(), open the socket, answer listRooms with `rooms` (one page). */
  connect(rooms?: RoomSummary[]): Promise<FakeSocket>;
  /** Open the newest socket and answer its listRooms. */
  reopen(rooms?: RoomSummary[]): Promise<FakeSocket>;
}

export function harness(options: Partial<ClientOptions> & { storage?: KeyValueStore } = {}): Harness {
  const sockets: FakeSocket[] = [];
  const storage = options.storage ?? memoryStore();
  let tokens = 0;
  const getToken = vi.fn(async (_options?: { forceRefresh?: boolean }) => `token-${++tokens}`);
  const client = new ChatClient({
    url: "ws://chat.test/ws",
    getToken,
    storage,
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    random: seededRandom(),
    randomUUID: uuidCounter(),
    ...options,
  });
  const socket = (): FakeSocket => {
    const last = sockets.at(-1);
    if (!last) throw new Error("no socket yet");
    return last;
  };
  const reopen = async (rooms: RoomSummary[] = []): Promise<FakeSocket> => {
    await settle();
    const current = socket();
    current.open();
    await settle();
    current.answer("listRooms", { type: "rooms", rooms });
    if (current.pending("getSettings")) current.answer("getSettings", { type: "settings", showPreviews: true, pushPublicKey: null });
    await settle();
    return current;
  };
  return {
    client,
    sockets,
    socket,
    storage,
    getToken,
    async connect(rooms = []) {
      client.start(ME);
      return reopen(rooms);
    },
    reopen,
  };
}
