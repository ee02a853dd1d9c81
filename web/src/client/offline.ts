/* A bounded copy of what the user last saw (the rooms list, the latest messages of the rooms opened last), so
 * that the app opens without a network and shows it, read-only, until the client has loaded the real thing.
 *
 * Kept in the client's KeyValueStore (one namespace per user: the app's store is `chat:<user id>:`), as one
 * JSON value. Bounded so that it never crowds out the outbox: at most OFFLINE_ROOMS rooms, messages only for the
 * OFFLINE_OPEN_ROOMS rooms opened last, OFFLINE_MESSAGES each (the newest, sent ones: pending messages live in
 * the outbox). The app clears it on sign-out. */
import type { ChatMessage, ChatSnapshot, RoomState, UserState } from "./types";
import { readJson, type KeyValueStore } from "./storage";

export const OFFLINE_KEY = "offline";
export const OFFLINE_RECENT_KEY = "offline-recent";
export const OFFLINE_ROOMS = 100;
export const OFFLINE_OPEN_ROOMS = 5;
export const OFFLINE_MESSAGES = 50;
const VERSION = 1;

interface Saved {
  version: number;
  savedAt: number; // epoch ms
  me: { id: string; name: string };
  rooms: RoomState[];
  users: Record<string, UserState>;
}

function isSaved(value: unknown): value is Saved {
  if (typeof value !== "object" || value === null) return false;
  const saved = value as Partial<Saved>;
  return (
    saved.version === VERSION && typeof saved.savedAt === "number" && typeof saved.me?.id === "string" &&
    Array.isArray(saved.rooms) && typeof saved.users === "object" && saved.users !== null
  );
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** What the app shows offline: a ChatSnapshot (offline connection) and when it was saved. */
export interface OfflineView {
  snapshot: ChatSnapshot;
  savedAt: number;
}

export class OfflineSnapshots {
  constructor(private readonly store: KeyValueStore, private readonly now: () => number = () => Date.now()) {}

  /** The rooms opened last, newest first: their messages are the ones kept. */
  recent(): string[] {
    return readJson(this.store, OFFLINE_RECENT_KEY, isStringArray) ?? [];
  }

  /** The user opened the room. */
  opened(roomId: string): void {
    const recent = [roomId, ...this.recent().filter((id) => id !== roomId)].slice(0, OFFLINE_OPEN_ROOMS);
    this.store.set(OFFLINE_RECENT_KEY, JSON.stringify(recent));
  }

  /** Keeps a bounded copy of `snapshot` (once the client has loaded the rooms; else nothing is saved). */
  save(snapshot: ChatSnapshot): void {
    if (!snapshot.me || !snapshot.roomsLoaded) return;
    const recent = new Set(this.recent());
    const rooms = snapshot.rooms.slice(0, OFFLINE_ROOMS).map((state) => trimRoom(state, recent.has(state.room.id)));
    const saved: Saved = { version: VERSION, savedAt: this.now(), me: snapshot.me, rooms, users: keptUsers(snapshot.users, rooms) };
    this.store.set(OFFLINE_KEY, JSON.stringify(saved));
  }

  /** The saved copy for `userId`, or null (none, another user's, another version, unreadable). */
  load(userId: string): OfflineView | null {
    const saved = readJson(this.store, OFFLINE_KEY, isSaved);
    if (!saved || saved.me.id !== userId) return null;
    return {
      savedAt: saved.savedAt,
      snapshot: {
        connection: { status: "offline", reason: "no network" },
        me: saved.me,
        rooms: saved.rooms,
        users: saved.users,
        roomsLoaded: true,
        notifications: null,
      },
    };
  }

  /** Sign-out: nothing of the user's chats stays on the device. */
  clear(): void {
    this.store.remove(OFFLINE_KEY);
    this.store.remove(OFFLINE_RECENT_KEY);
  }
}

function trimRoom(state: RoomState, keepMessages: boolean): RoomState {
  const sent = keepMessages ? state.messages.filter((m: ChatMessage) => m.status === "sent" && m.seq !== null) : [];
  const messages = sent.slice(-OFFLINE_MESSAGES).map(({ error: _error, ...message }) => message);
  return {
    ...state,
    messages,
    hasOlder: messages.length > 0 ? state.hasOlder || sent.length > messages.length : state.hasOlder,
    loadingOlder: false,
    typing: [],
  };
}

/** The users the saved rooms name (senders, members of direct chats): names and avatars offline. */
function keptUsers(users: Record<string, UserState>, rooms: RoomState[]): Record<string, UserState> {
  const ids = new Set<string>();
  for (const state of rooms) {
    for (const message of state.messages) ids.add(message.senderId);
    for (const id of Object.keys(state.readBy)) ids.add(id);
    if (!state.room.isGroup) for (const id of state.room.memberIds) ids.add(id);
  }
  const kept: Record<string, UserState> = {};
  for (const id of ids) {
    const user = users[id];
    if (user) kept[id] = { ...user, online: false };
  }
  return kept;
}
