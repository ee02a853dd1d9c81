import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { harness, message, news, room, settle, type FakeSocket } from "./testing";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const stateOf = (h: ReturnType<typeof harness>, roomId: string) => h.client.getSnapshot().rooms.find((s) => s.room.id === roomId);

/** Connect with rooms r1..rN, each opened with messages 1..2, then drop the socket. */
async function loadedThenDropped(count: number): Promise<ReturnType<typeof harness>> {
  const h = harness();
  const ids = range(1, count).map((n) => `r${n}`);
  const socket = await h.connect(ids.map((id) => room(id, { lastSeq: 2, lastVersion: 3 })));
  for (const id of ids) {
    const opening = h.client.openRoom(id);
    await settle();
    socket.answer("history", { type: "history", roomId: id, messages: [message(id, 1), message(id, 2)], hasMore: false });
    await opening;
  }
  socket.drop();
  await vi.advanceTimersByTimeAsync(1_000);
  return h;
}

async function reopen(h: ReturnType<typeof harness>, rooms: Parameters<typeof room>[] ): Promise<FakeSocket> {
  return h.reopen(rooms.map((args) => room(...args)));
}

describe("sync after a reconnect", () => {
  it("asks once for every loaded room, pages on nextCursor, drops rooms left, and applies counts and changes", async () => {
    const h = await loadedThenDropped(3);
    const socket = await reopen(h, [["r1", { lastSeq: 4 }], ["r2", { lastSeq: 2, lastVersion: 5 }], ["r3", { lastSeq: 2 }]]);
    expect(socket.frames("sync")).toHaveLength(1);
    expect(socket.pending("sync")).toMatchObject({ rooms: { r1: 2, r2: 2, r3: 2 }, versions: { r1: 3, r2: 3, r3: 3 } });
    expect(socket.pending("sync")?.cursor).toBeUndefined();
    socket.answer("sync", {
      type: "sync",
      rooms: [news("r1", [message("r1", 3), message("r1", 4)], { readSeq: 3, unreadCount: 1 })],
      left: [],
      nextCursor: "more",
    });
    await settle();
    expect(socket.pending("sync")).toMatchObject({ cursor: "more", rooms: { r1: 2, r2: 2, r3: 2 } });
    socket.answer("sync", {
      type: "sync",
      rooms: [news("r2", [], { lastSeq: 2, changes: [message("r2", 1, { content: "edited", version: 5, editedAt: "2025-01-02T00:00:00.000Z" })], version: 5 })],
      left: ["r3"],
    });
    await settle();
    expect(stateOf(h, "r1")?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(stateOf(h, "r1")).toMatchObject({ readSeq: 3, unreadCount: 1 });
    expect(stateOf(h, "r2")?.messages[0]?.content).toBe("edited");
    expect(stateOf(h, "r3")).toBeUndefined();
    expect(socket.frames("history")).toHaveLength(0);
  });

  it("goes on with history for a room with more messages, and with changes for one with more changes", async () => {
    const h = await loadedThenDropped(2);
    const socket = await reopen(h, [["r1", { lastSeq: 30 }], ["r2", { lastSeq: 2, lastVersion: 9 }]]);
    socket.answer("sync", {
      type: "sync",
      rooms: [
        news("r1", range(3, 22).map((seq) => message("r1", seq)), { lastSeq: 30, hasMore: true }),
        news("r2", [], { lastSeq: 2, changes: [message("r2", 1, { content: "v4", version: 4 })], version: 4, changesHaveMore: true }),
      ],
      left: [],
    });
    await settle();
    expect(socket.pending("history")).toMatchObject({ roomId: "r1", afterSeq: 22 });
    expect(socket.pending("changes")).toMatchObject({ roomId: "r2", afterVersion: 4 });
    socket.answer("history", { type: "history", roomId: "r1", messages: range(23, 30).map((seq) => message("r1", seq)), hasMore: false });
    socket.answer("changes", { type: "changes", roomId: "r2", messages: [message("r2", 2, { content: "v9", version: 9 })], version: 9, hasMore: false });
    await settle();
    expect(stateOf(h, "r1")?.messages).toHaveLength(30);
    expect(stateOf(h, "r2")?.messages.map((m) => m.content)).toEqual(["v4", "v9"]);
    // The next sync asks from the version reached.
    socket.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    const next = await reopen(h, [["r1", { lastSeq: 30 }], ["r2", { lastSeq: 2, lastVersion: 9 }]]);
    expect(next.pending("sync")).toMatchObject({ rooms: { r1: 30, r2: 2 }, versions: { r2: 9 } });
  });

  it("asks about at most 100 rooms a frame", async () => {
    const h = await loadedThenDropped(101);
    const socket = await reopen(h, range(1, 101).map((n) => [`r${n}`, { lastSeq: 2 }] as Parameters<typeof room>));
    expect(Object.keys(socket.pending("sync")?.rooms ?? {})).toHaveLength(100);
    socket.answer("sync", { type: "sync", rooms: [], left: [] });
    await settle();
    expect(Object.keys(socket.pending("sync")?.rooms ?? {})).toEqual(["r101"]);
  });

  it("asks for the changes since the version the loaded messages had, not the version a later listing says", async () => {
    const h = harness();
    const socket = await h.connect([]);
    // A room pushed after the listing (created by someone else), then opened: its messages load at version 2.
    socket.push({ type: "room", room: { id: "p", name: "P", isGroup: true, memberIds: ["u-me", "u-bob"], createdAt: "2025-01-01T00:00:00.000Z", memberCount: 2, adminIds: [] } });
    await settle();
    const opening = h.client.openRoom("p");
    await settle();
    socket.answer("history", { type: "history", roomId: "p", messages: [message("p", 1, { version: 2 })], hasMore: false });
    await opening;
    socket.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    // Meanwhile message 1 was edited (version 5): the listing says so, the sync must still ask for it.
    const next = await reopen(h, [["p", { lastSeq: 1, lastVersion: 5 }]]);
    expect(next.pending("sync")).toMatchObject({ rooms: { p: 1 }, versions: { p: 0 } });
    next.answer("sync", { type: "sync", rooms: [news("p", [], { lastSeq: 1, lastVersion: 5, changes: [message("p", 1, { content: "edited", version: 5 })], version: 5 })], left: [] });
    await settle();
    expect(stateOf(h, "p")?.messages[0]?.content).toBe("edited");
  });

  it("sends no sync when no room was loaded before", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 5 })]);
    expect(socket.frames("sync")).toHaveLength(0);
  });
});
