import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BOB, harness, message, ME, room, settle, type FakeSocket } from "./testing";
import type { ChatEvent } from "./types";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

const stateOf = (h: ReturnType<typeof harness>, roomId = "r1") => h.client.getSnapshot().rooms.find((s) => s.room.id === roomId);
const messageOf = (h: ReturnType<typeof harness>, seq: number) => stateOf(h)?.messages.find((m) => m.seq === seq);

/** Connect and open r1 with messages 1..3 (3 is mine). */
async function opened(): Promise<[ReturnType<typeof harness>, FakeSocket]> {
  const h = harness();
  const socket = await h.connect([room("r1", { lastSeq: 3, lastMessage: message("r1", 3, { senderId: ME.id }) })]);
  const opening = h.client.openRoom("r1");
  await settle();
  socket.answer("history", {
    type: "history", roomId: "r1", hasMore: false,
    messages: [message("r1", 1), message("r1", 2, { myReactions: ["👍"], reactions: [{ emoji: "👍", count: 2 }], version: 1 }), message("r1", 3, { senderId: ME.id })],
  });
  await opening;
  return [h, socket];
}

describe("edits and deletions", () => {
  it("applies a newer version of a message, ignores an older one, and keeps the room's preview current", async () => {
    const [h, socket] = await opened();
    const editing = h.client.editMessage("r1", "r1-m3", "fixed");
    expect(socket.pending("editMessage")).toMatchObject({ roomId: "r1", messageId: "r1-m3", content: "fixed" });
    const edited = message("r1", 3, { senderId: ME.id, content: "fixed", version: 5, editedAt: "2025-01-02T00:01:00.000Z", myReactions: [] });
    socket.answer("editMessage", { type: "messageUpdated", message: edited });
    await editing;
    expect(messageOf(h, 3)).toMatchObject({ content: "fixed", version: 5, editedAt: "2025-01-02T00:01:00.000Z", status: "sent" });
    expect(stateOf(h)?.room.lastMessage?.content).toBe("fixed");
    // A late push of an older state changes nothing.
    socket.push({ type: "messageUpdated", message: { ...edited, content: "older", version: 4, myReactions: null } });
    await settle();
    expect(messageOf(h, 3)?.content).toBe("fixed");
    expect(stateOf(h)?.room.lastVersion).toBe(5);
  });

  it("shows a deleted message as a tombstone without reactions", async () => {
    const [h, socket] = await opened();
    socket.push({ type: "messageUpdated", message: message("r1", 2, { content: "", deletedAt: "2025-01-02T00:02:00.000Z", version: 6, myReactions: null }) });
    await settle();
    expect(messageOf(h, 2)).toMatchObject({ content: "", deletedAt: "2025-01-02T00:02:00.000Z", reactions: [], myReactions: [] });
    const deleting = h.client.deleteMessage("r1", "r1-m1");
    expect(socket.pending("deleteMessage")).toMatchObject({ roomId: "r1", messageId: "r1-m1" });
    socket.answer("deleteMessage", { type: "messageUpdated", message: message("r1", 1, { content: "", deletedAt: "2025-01-02T00:03:00.000Z", version: 7 }) });
    await deleting;
    expect(messageOf(h, 1)?.deletedAt).not.toBeNull();
  });

  it("keeps a newer state when a history page brings an older copy", async () => {
    const [h, socket] = await opened();
    socket.push({ type: "messageUpdated", message: message("r1", 1, { content: "new", version: 9, myReactions: null }) });
    const loading = h.client.loadOlder("r1"); // nothing older: no request
    await loading;
    socket.push({ type: "message", message: message("r1", 1, { content: "old", version: 0 }) });
    await settle();
    expect(messageOf(h, 1)?.content).toBe("new");
  });
});

describe("reactions", () => {
  it("keeps the user's own reactions from replies, updates counts from pushes, and toggles", async () => {
    const [h, socket] = await opened();
    expect(messageOf(h, 2)).toMatchObject({ myReactions: ["👍"], reactions: [{ emoji: "👍", count: 2 }] });
    // Bob reacts: the counts move, my own reactions stay.
    socket.push({ type: "reaction", roomId: "r1", messageId: "r1-m2", seq: 2, userId: BOB.id, emoji: "🎉", added: true, version: 2,
      reactions: [{ emoji: "👍", count: 2 }, { emoji: "🎉", count: 1 }] });
    await settle();
    expect(messageOf(h, 2)).toMatchObject({ myReactions: ["👍"], version: 2, reactions: [{ emoji: "👍", count: 2 }, { emoji: "🎉", count: 1 }] });
    // Toggling 👍 takes it back (I have it), toggling 🎉 adds it.
    const removing = h.client.toggleReaction("r1", "r1-m2", "👍");
    expect(socket.pending("removeReaction")).toMatchObject({ messageId: "r1-m2", emoji: "👍" });
    socket.answer("removeReaction", { type: "reaction", roomId: "r1", messageId: "r1-m2", seq: 2, userId: ME.id, emoji: "👍", added: false, version: 3,
      reactions: [{ emoji: "👍", count: 1 }, { emoji: "🎉", count: 1 }] });
    await removing;
    expect(messageOf(h, 2)).toMatchObject({ myReactions: [], reactions: [{ emoji: "👍", count: 1 }, { emoji: "🎉", count: 1 }] });
    const adding = h.client.toggleReaction("r1", "r1-m2", "🎉");
    expect(socket.pending("addReaction")).toMatchObject({ messageId: "r1-m2", emoji: "🎉" });
    socket.answer("addReaction", { type: "reaction", roomId: "r1", messageId: "r1-m2", seq: 2, userId: ME.id, emoji: "🎉", added: true, version: 4,
      reactions: [{ emoji: "👍", count: 1 }, { emoji: "🎉", count: 2 }] });
    await adding;
    expect(messageOf(h, 2)?.myReactions).toEqual(["🎉"]);
    // My other device reacts: a push with my userId moves my own reactions too; an older frame is ignored.
    socket.push({ type: "reaction", roomId: "r1", messageId: "r1-m2", seq: 2, userId: ME.id, emoji: "🔥", added: true, version: 5,
      reactions: [{ emoji: "👍", count: 1 }, { emoji: "🎉", count: 2 }, { emoji: "🔥", count: 1 }] });
    socket.push({ type: "reaction", roomId: "r1", messageId: "r1-m2", seq: 2, userId: BOB.id, emoji: "🎉", added: false, version: 4, reactions: [] });
    await settle();
    expect(messageOf(h, 2)).toMatchObject({ myReactions: ["🎉", "🔥"], version: 5 });
    expect(messageOf(h, 2)?.reactions).toHaveLength(3);
  });
});

describe("fetching a message by id", () => {
  it("keeps a fetched parent beside the loaded pages, without loading the pages between", async () => {
    const [h, socket] = await opened();
    const fetching = h.client.fetchMessage("r1", "old-parent");
    expect(socket.pending("getMessage")).toMatchObject({ roomId: "r1", messageId: "old-parent" });
    socket.answer("getMessage", { type: "messageFound", message: message("r1", 1, { id: "old-parent", seq: 0 + 1, content: "parent" }) });
    // seq 1 is loaded under another id in this fake; the fetched one is kept by its id.
    await expect(fetching).resolves.toBeDefined();
    expect(h.client.getMessage("r1", "old-parent")).toBeDefined();
    expect(stateOf(h)?.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe("room administration", () => {
  it("renames, removes members, and says who may manage the group", async () => {
    const h = harness();
    const socket = await h.connect([room("g", { adminIds: [ME.id], memberIds: [ME.id, BOB.id, "u-carol"], memberCount: 3 }), room("x", { adminIds: [BOB.id] })]);
    expect(stateOf(h, "g")?.isAdmin).toBe(true);
    expect(stateOf(h, "x")?.isAdmin).toBe(false);
    const base = { id: "g", name: "Room g", isGroup: true, createdAt: "2025-01-01T00:00:00.000Z", adminIds: [ME.id] };
    const renaming = h.client.renameRoom("g", "Renamed");
    expect(socket.pending("renameRoom")).toMatchObject({ roomId: "g", name: "Renamed" });
    socket.answer("renameRoom", { type: "room", room: { ...base, name: "Renamed", memberIds: [ME.id, BOB.id, "u-carol"], memberCount: 3 } });
    await expect(renaming).resolves.toMatchObject({ name: "Renamed" });
    const removing = h.client.removeMember("g", "u-carol");
    expect(socket.pending("removeMember")).toMatchObject({ roomId: "g", userId: "u-carol" });
    socket.answer("removeMember", { type: "room", room: { ...base, name: "Renamed", memberIds: [ME.id, BOB.id], memberCount: 2 } });
    await expect(removing).resolves.toMatchObject({ memberCount: 2 });
  });

  it("drops a room the user was removed from and tells the app who removed them", async () => {
    const h = harness();
    const events: ChatEvent[] = [];
    h.client.on("removed", (event) => events.push(event));
    const socket = await h.connect([room("g", { name: "Team" })]);
    socket.push({ type: "removed", roomId: "g", byUserId: BOB.id });
    await settle();
    expect(stateOf(h, "g")).toBeUndefined();
    expect(events).toEqual([{ type: "removed", roomId: "g", byUserId: BOB.id, room: expect.objectContaining({ name: "Team" }) }]);
  });
});

describe("missed changes", () => {
  it("asks the change feed when a pushed version skips one (a lost push)", async () => {
    const [h, socket] = await opened(); // listed at version 0
    socket.push({ type: "messageUpdated", message: message("r1", 1, { content: "v1", version: 1, myReactions: null }) });
    await settle();
    expect(socket.frames("changes")).toHaveLength(0);
    socket.push({ type: "messageUpdated", message: message("r1", 1, { content: "v3", version: 3, myReactions: null }) });
    await settle();
    expect(socket.pending("changes")).toMatchObject({ roomId: "r1", afterVersion: 1 });
    socket.answer("changes", { type: "changes", roomId: "r1", messages: [message("r1", 2, { content: "v2", version: 2 }), message("r1", 1, { content: "v3", version: 3 })], version: 3, hasMore: false });
    await settle();
    expect(stateOf(h)?.messages.map((m) => m.content)).toEqual(["v3", "v2", "message 3"]);
  });
});

describe("read receipts", () => {
  it("keeps other members' markers from presence and read pushes, forward only", async () => {
    const [h, socket] = await opened();
    const refreshing = h.client.refreshPresence("r1");
    await settle();
    socket.answer("presence", { type: "presence", roomId: "r1", users: [
      { userId: BOB.id, online: true, lastSeen: null, name: BOB.name, avatarUrl: null, readSeq: 2 },
      { userId: ME.id, online: true, lastSeen: null, name: ME.name, avatarUrl: null, readSeq: 3 },
    ] });
    await refreshing;
    expect(stateOf(h)?.readBy).toEqual({ [BOB.id]: 2 });
    socket.push({ type: "read", roomId: "r1", userId: BOB.id, seq: 3 });
    await settle();
    expect(stateOf(h)?.readBy).toEqual({ [BOB.id]: 3 });
    socket.push({ type: "read", roomId: "r1", userId: BOB.id, seq: 1 });
    await settle();
    expect(stateOf(h)?.readBy).toEqual({ [BOB.id]: 3 });
  });
});
