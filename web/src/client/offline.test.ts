import { describe, expect, it } from "vitest";
import { OFFLINE_KEY, OFFLINE_MESSAGES, OFFLINE_OPEN_ROOMS, OFFLINE_ROOMS, OfflineSnapshots } from "./offline";
import { localStorageStore, memoryStore, type StorageLike } from "./storage";
import type { ChatMessage, ChatSnapshot, RoomState } from "./types";

const ME = { id: "u-me", name: "Me" };

function message(roomId: string, seq: number, overrides: Partial<ChatMessage> = {}): ChatMessage {
  return {
    key: `m-${roomId}-${seq}`, id: `m-${roomId}-${seq}`, roomId, seq, senderId: "u-bob", senderName: "Bob",
    content: `hello ${seq}`, createdAt: new Date(seq * 1000).toISOString(), clientMsgId: `c-${seq}`, replyToId: null,
    replyTo: null, version: 0, editedAt: null, deletedAt: null, reactions: [], myReactions: [], status: "sent",
    ...overrides,
  };
}

function room(id: string, messages: number): RoomState {
  return {
    room: {
      id, name: `Room ${id}`, isGroup: true, memberIds: [ME.id, "u-bob"], createdAt: "2026-01-01T00:00:00Z", memberCount: 2,
      adminIds: [ME.id], lastSeq: messages, lastMessage: null, readSeq: 0, unreadCount: 0, lastVersion: 0, muted: false,
    },
    messages: Array.from({ length: messages }, (_, i) => message(id, i + 1)),
    hasOlder: false, loadingOlder: false, lastSeq: messages, readSeq: 0, unreadCount: 0, readBy: {}, isAdmin: true,
    typing: [{ userId: "u-bob", userName: "Bob", until: 1 }],
  };
}

function snapshot(rooms: RoomState[], overrides: Partial<ChatSnapshot> = {}): ChatSnapshot {
  return {
    connection: { status: "online", since: 1 },
    me: ME,
    rooms,
    users: {
      "u-bob": { id: "u-bob", name: "Bob", avatarUrl: null, online: true, lastSeen: null },
      "u-stranger": { id: "u-stranger", name: "Stranger", avatarUrl: null, online: true, lastSeen: null },
    },
    roomsLoaded: true,
    notifications: null,
    ...overrides,
  };
}

describe("OfflineSnapshots", () => {
  it("gives back the rooms and the latest messages of the rooms opened last, offline and read-only", () => {
    const offline = new OfflineSnapshots(memoryStore(), () => 42);
    offline.opened("a");
    offline.save(snapshot([room("a", 3), room("b", 3)]));
    const view = offline.load(ME.id);
    expect(view?.savedAt).toBe(42);
    expect(view?.snapshot.connection.status).toBe("offline");
    expect(view?.snapshot.rooms.map((s) => [s.room.id, s.messages.map((m) => m.seq)])).toEqual([
      ["a", [1, 2, 3]],
      ["b", []], // never opened: in the list, without messages
    ]);
    expect(view?.snapshot.rooms[0]?.typing).toEqual([]);
    // Only the users the rooms name, never shown online.
    expect(Object.keys(view?.snapshot.users ?? {})).toEqual(["u-bob"]);
    expect(view?.snapshot.users["u-bob"]?.online).toBe(false);
  });

  it("is bounded: rooms, rooms with messages, messages per room; pending and failed ones stay in the outbox", () => {
    const offline = new OfflineSnapshots(memoryStore());
    const rooms = Array.from({ length: OFFLINE_ROOMS + 20 }, (_, i) => room(`r${i}`, 0));
    rooms[0] = room("r0", OFFLINE_MESSAGES + 30);
    rooms[0].messages.push(message("r0", 0, { key: "pending", id: null, seq: null, status: "pending" }));
    for (let i = OFFLINE_OPEN_ROOMS + 2; i >= 0; i--) {
      rooms[i] = i === 0 ? rooms[0] : room(`r${i}`, 5);
      offline.opened(`r${i}`);
    }
    offline.save(snapshot(rooms));
    const saved = offline.load(ME.id)?.snapshot;
    expect(saved?.rooms).toHaveLength(OFFLINE_ROOMS);
    const first = saved?.rooms[0];
    expect(first?.messages).toHaveLength(OFFLINE_MESSAGES);
    expect(first?.messages.at(-1)?.seq).toBe(OFFLINE_MESSAGES + 30); // the newest are kept
    expect(first?.hasOlder).toBe(true);
    expect(offline.recent()).toHaveLength(OFFLINE_OPEN_ROOMS);
    expect(saved?.rooms.filter((s) => s.messages.length > 0)).toHaveLength(OFFLINE_OPEN_ROOMS);
  });

  it("saves nothing before the rooms are loaded", () => {
    const offline = new OfflineSnapshots(memoryStore());
    offline.save(snapshot([room("a", 1)], { roomsLoaded: false }));
    expect(offline.load(ME.id)).toBeNull();
  });

  it("is per user: another user's store, or a copy naming another user, shows nothing", () => {
    const storage = new Map<string, string>();
    const local: StorageLike = {
      getItem: (key) => storage.get(key) ?? null,
      setItem: (key, value) => void storage.set(key, value),
      removeItem: (key) => void storage.delete(key),
    };
    const mine = new OfflineSnapshots(localStorageStore(local, `chat:${ME.id}:`));
    mine.save(snapshot([room("a", 1)]));
    expect([...storage.keys()]).toEqual([`chat:${ME.id}:${OFFLINE_KEY}`]);
    expect(new OfflineSnapshots(localStorageStore(local, "chat:u-other:")).load("u-other")).toBeNull();
    expect(mine.load("u-other")).toBeNull();
  });

  it("is cleared on sign-out, and an unreadable copy is ignored", () => {
    const store = memoryStore();
    const offline = new OfflineSnapshots(store);
    offline.opened("a");
    offline.save(snapshot([room("a", 1)]));
    offline.clear();
    expect(offline.load(ME.id)).toBeNull();
    expect(offline.recent()).toEqual([]);
    store.set(OFFLINE_KEY, "{not json");
    expect(offline.load(ME.id)).toBeNull();
    store.set(OFFLINE_KEY, JSON.stringify({ version: 999, me: ME, rooms: [], users: {}, savedAt: 1 }));
    expect(offline.load(ME.id)).toBeNull();
  });
});
