/* Own messages not yet stored. Each keeps the clientMsgId it was born with through every retry, reconnect and
 * reload, so the server stores it once. Persisted; sent one at a time per room so a room keeps their order. */
import type { ChatRequestError } from "./errors";
import { LIMITS } from "./protocol";
import { readJson, type KeyValueStore } from "./storage";
import type { ChatMessage, ClientErrorCode } from "./types";

export interface OutboxEntry {
  clientMsgId: string;
  roomId: string;
  content: string;
  replyToId: string | null;
  senderId: string;
  senderName: string;
  createdAt: string;
  status: "pending" | "failed";
  error?: { code: ClientErrorCode; message: string; retryAt?: number };
  attempts: number; // failed automatic attempts so far
}

export interface OutboxOptions {
  store: KeyValueStore;
  key: string;
  /** Sends the entry; resolves on its ack, rejects with a ChatRequestError; null when no socket is open. */
  send(entry: OutboxEntry): Promise<unknown> | null;
  onChange(roomId: string): void;
  now(): number;
  maxAttempts: number;
  /** Wait before retrying when the server said to retry but not when. */
  retryDelay(attempts: number): number;
}

/** Why content cannot be sent, checked before sending (the server would refuse it the same way). */
export function contentProblem(content: string): { code: "bad_request" | "too_large"; message: string } | null {
  if (content.trim() === "") return { code: "bad_request", message: "A message cannot be empty" };
  const chars = [...content].length; // code points, as the server counts
  if (chars > LIMITS.maxContentChars) {
    return { code: "too_large", message: `A message holds at most ${LIMITS.maxContentChars} characters (this one ${chars})` };
  }
  return null;
}

/** Errors of the connection rather than of the message: it stays pending and goes again on the next socket. */
const CONNECTION_CODES = new Set<ClientErrorCode>(["offline", "timeout", "unauthorized"]);
/** The server asks to try again later. Unknown codes arrive here as `internal`. */
const RETRY_LATER_CODES = new Set<ClientErrorCode>(["rate_limited", "unavailable", "internal"]);

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>(); // in the order they were written
  private readonly inFlight = new Set<string>();
  private readonly retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly removed = new Set<string>(); // so a save does not bring back what another tab still lists
  private readonly views = new WeakMap<OutboxEntry, ChatMessage>();

  constructor(private readonly options: OutboxOptions) {
    for (const stored of readJson(options.store, options.key, isEntryList) ?? []) {
      // After a reload nothing is in flight, and a planned retry is due: both are pending again.
      const retrying = stored.status === "pending" || stored.error?.retryAt !== undefined;
      const { error, ...rest } = stored;
      this.entries.set(stored.clientMsgId, retrying ? { ...rest, status: "pending" } : stored);
    }
  }

  add(entry: Omit<OutboxEntry, "status" | "attempts" | "error">): OutboxEntry {
    const problem = contentProblem(entry.content);
    const added: OutboxEntry = problem
      ? { ...entry, status: "failed", error: problem, attempts: 0 }
      : { ...entry, status: "pending", attempts: 0 };
    this.entries.set(added.clientMsgId, added);
    this.changed(added);
    this.flush();
    return added;
  }

  get(clientMsgId: string): OutboxEntry | undefined {
    return this.entries.get(clientMsgId);
  }

  /** The room's pending and failed messages, as timeline entries (the same objects until they change). */
  forRoom(roomId: string): ChatMessage[] {
    const result: ChatMessage[] = [];
    for (const entry of this.entries.values()) if (entry.roomId === roomId) result.push(this.view(entry));
    return result;
  }

  /** The timeline entry of an own message still in the outbox. */
  message(clientMsgId: string): ChatMessage | undefined {
    const entry = this.entries.get(clientMsgId);
    return entry && this.view(entry);
  }

  /** Sends what can go now: per room, the oldest message still to be delivered, unless it is on its way or waits. */
  flush(): void {
    const busyRooms = new Set<string>();
    for (const entry of this.entries.values()) {
      if (busyRooms.has(entry.roomId)) continue;
      if (entry.status === "failed" && entry.error?.retryAt === undefined) continue; // given up: does not block
      busyRooms.add(entry.roomId);
      if (entry.status === "pending" && !this.inFlight.has(entry.clientMsgId)) this.sendEntry(entry);
    }
  }

  /** The message is stored (its ack, or it came back in a push or a catch-up). */
  confirm(clientMsgId: string): boolean {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return false;
    this.remove(entry);
    this.flush(); // the next one of the room may go
    return true;
  }

  retry(clientMsgId: string): void {
    const entry = this.entries.get(clientMsgId);
    if (!entry || entry.status !== "failed" || contentProblem(entry.content)) return;
    this.clearTimer(clientMsgId);
    this.replace(entry, { status: "pending", error: undefined, attempts: 0 });
    this.flush();
  }

  discard(clientMsgId: string): void {
    const entry = this.entries.get(clientMsgId);
    if (entry) this.remove(entry);
    this.flush();
  }

  private sendEntry(entry: OutboxEntry): void {
    const sending = this.options.send(entry);
    if (!sending) return; // no socket: the next open flushes
    const id = entry.clientMsgId;
    this.inFlight.add(id);
    sending.then(
      () => {
        this.inFlight.delete(id);
        this.confirm(id);
      },
      (error: ChatRequestError) => {
        this.inFlight.delete(id);
        this.failedAttempt(id, error);
      },
    );
  }

  private failedAttempt(clientMsgId: string, error: ChatRequestError): void {
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    const attempts = entry.attempts + 1;
    const reason = { code: error.code, message: error.message };
    if (error.code === "unauthorized") {
      // A renewed connection is on its way (the client asked for it); its open sends this again. Not counted.
      return;
    }
    if (CONNECTION_CODES.has(error.code) || RETRY_LATER_CODES.has(error.code)) {
      if (attempts >= this.options.maxAttempts) {
        this.replace(entry, { status: "failed", error: reason, attempts });
      } else if (CONNECTION_CODES.has(error.code)) {
        this.replace(entry, { attempts });
        this.flush(); // goes now if another socket is already open, else on the next open
        return;
      } else {
        const delay = error.retryAfterMs ?? this.options.retryDelay(attempts);
        const retryAt = this.options.now() + delay;
        this.replace(entry, { status: "failed", error: { ...reason, retryAt }, attempts });
        this.retryTimers.set(clientMsgId, setTimeout(() => this.retryLater(clientMsgId), delay));
      }
    } else {
      this.replace(entry, { status: "failed", error: reason, attempts }); // the message itself is refused
    }
    this.flush();
  }

  private retryLater(clientMsgId: string): void {
    this.retryTimers.delete(clientMsgId);
    const entry = this.entries.get(clientMsgId);
    if (!entry) return;
    this.replace(entry, { status: "pending", error: undefined });
    this.flush();
  }

  private replace(entry: OutboxEntry, changes: Partial<OutboxEntry>): void {
    const next: OutboxEntry = { ...entry, ...changes };
    if (next.error === undefined) delete next.error;
    this.entries.set(entry.clientMsgId, next);
    this.changed(next);
  }

  private remove(entry: OutboxEntry): void {
    this.clearTimer(entry.clientMsgId);
    this.entries.delete(entry.clientMsgId);
    this.removed.add(entry.clientMsgId);
    this.changed(entry);
  }

  private clearTimer(clientMsgId: string): void {
    const timer = this.retryTimers.get(clientMsgId);
    if (timer) clearTimeout(timer);
    this.retryTimers.delete(clientMsgId);
  }

  private changed(entry: OutboxEntry): void {
    this.save();
    this.options.onChange(entry.roomId);
  }

  /** Merges with what other tabs saved: entries this tab never knew are kept. */
  private save(): void {
    const { store, key } = this.options;
    const others = (readJson(store, key, isEntryList) ?? []).filter(
      (stored) => !this.entries.has(stored.clientMsgId) && !this.removed.has(stored.clientMsgId),
    );
    const all = [...others, ...this.entries.values()];
    if (all.length > 0) store.set(key, JSON.stringify(all));
    else store.remove(key);
  }

  private view(entry: OutboxEntry): ChatMessage {
    let view = this.views.get(entry);
    if (!view) {
      view = {
        key: entry.clientMsgId,
        id: null,
        roomId: entry.roomId,
        seq: null,
        senderId: entry.senderId,
        senderName: entry.senderName,
        content: entry.content,
        createdAt: entry.createdAt,
        clientMsgId: entry.clientMsgId,
        replyToId: entry.replyToId,
        replyTo: null,
        version: 0,
        editedAt: null,
        deletedAt: null,
        reactions: [],
        myReactions: [],
        status: entry.status,
        ...(entry.error ? { error: entry.error } : {}),
      };
      this.views.set(entry, view);
    }
    return view;
  }
}

function isEntryList(value: unknown): value is OutboxEntry[] {
  return (
    Array.isArray(value) &&
    value.every(
      (entry) =>
        typeof entry === "object" && entry !== null &&
        typeof entry.clientMsgId === "string" && typeof entry.roomId === "string" &&
        typeof entry.content === "string" && (entry.status === "pending" || entry.status === "failed"),
    )
  );
}
