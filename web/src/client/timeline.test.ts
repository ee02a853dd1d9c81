import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { memoryStore } from "./storage";
import { Timeline } from "./timeline";
import { harness, message, ME, news, room, settle, type FakeSocket } from "./testing";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

const seqsOf = (h: ReturnType<typeof harness>, roomId = "r1") =>
  h.client.getSnapshot().rooms.find((state) => state.room.id === roomId)?.messages.map((m) => m.seq);

function page(roomId: string, seqs: number[], hasMore = false) {
  return { type: "history", roomId, messages: seqs.map((seq) => message(roomId, seq)), hasMore };
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Connect and open r1 with messages 1..loaded. */
async function opened(loaded: number, h = harness()): Promise<[ReturnType<typeof harness>, FakeSocket]> {
  const socket = await h.connect([room("r1", { lastSeq: loaded })]);
  const opening = h.client.openRoom("r1");
  await settle();
  socket.answer("history", page("r1", range(1, loaded)));
  await opening;
  return [h, socket];
}

describe("Timeline", () => {
  it("keeps messages ordered by seq and drops duplicates by seq and by id", () => {
    const timeline = new Timeline();
    expect(timeline.add([message("r", 3), message("r", 1)], ME.id).map((m) => m.seq)).toEqual([1, 3]);
    expect(timeline.add([message("r", 2), message("r", 3), message("r", 4, { id: "r-m1" })], ME.id).map((m) => m.seq)).toEqual([2]);
    expect(timeline.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(timeline.seenSeq).toBe(3);
  });

  it("keys own messages by clientMsgId (the pending copy's key) and others' by id", () => {
    const timeline = new Timeline();
    const [mine, theirs] = timeline.add([message("r", 1, { senderId: ME.id }), message("r", 2)], ME.id);
    expect(mine?.key).toBe(message("r", 1).clientMsgId);
    expect(theirs?.key).toBe("r-m2");
  });

  it("stops the last seq seen at the first hole", () => {
    const timeline = new Timeline(2);
    timeline.add([message("r", 3), message("r", 5)], ME.id);
    expect(timeline.seenSeq).toBe(3);
    timeline.add([message("r", 4)], ME.id);
    expect(timeline.seenSeq).toBe(5);
  });
});

describe("catching up", () => {
  it("fetches what a gap in pushed seqs skipped, following every page", async () => {
    const [h, socket] = await opened(3);
    socket.push({ type: "message", message: message("r1", 5) });
    await settle();
    expect(seqsOf(h)).toEqual([1, 2, 3, 5]); // shown at once, the gap filled next
    expect(socket.pending("history")).toMatchObject({ roomId: "r1", afterSeq: 3 });
    socket.answer("history", page("r1", [4], true));
    await settle();
    expect(socket.pending("history")).toMatchObject({ afterSeq: 5 });
    socket.answer("history", page("r1", [6, 7], false));
    await settle();
    expect(socket.pending("history")).toBeUndefined();
    expect(seqsOf(h)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("fires one catch-up per room however many gaps arrive meanwhile", async () => {
    const [h, socket] = await opened(3);
    socket.push({ type: "message", message: message("r1", 5) });
    socket.push({ type: "message", message: message("r1", 7) });
    await settle();
    expect(socket.frames("history").filter((f) => f.afterSeq !== undefined)).toHaveLength(1);
    socket.answer("history", page("r1", [4, 5], false));
    await settle();
    // Still short of 7: the same catch-up goes on from 5.
    expect(socket.pending("history")).toMatchObject({ afterSeq: 5 });
    socket.answer("history", page("r1", [6, 7], false));
    await settle();
    expect(seqsOf(h)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(socket.pending("history")).toBeUndefined();
  });

  it("catches up after a reconnect, then follows pushes without asking again", async () => {
    const [h, first] = await opened(2);
    first.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1", { lastSeq: 4 })]);
    // One sync frame for every room loaded before, not a history per room.
    expect(second.pending("sync")).toMatchObject({ rooms: { r1: 2 }, versions: { r1: 0 } });
    second.answer("sync", { type: "sync", rooms: [news("r1", [message("r1", 3), message("r1", 4)])], left: [] });
    await settle();
    second.push({ type: "message", message: message("r1", 5) });
    await settle();
    expect(seqsOf(h)).toEqual([1, 2, 3, 4, 5]);
    expect(second.frames("history")).toHaveLength(0);
    expect(second.frames("sync")).toHaveLength(1);
  });

  it("shows a message once whether it comes by ack, push and history", async () => {
    const [h, socket] = await opened(1);
    const sent = h.client.send("r1", "mine");
    const stored = message("r1", 2, { senderId: ME.id, senderName: ME.name, content: "mine", clientMsgId: sent.clientMsgId });
    socket.push({ type: "message", message: stored }); // from another tab of mine: a push can beat the ack
    socket.answer("sendMessage", { type: "ack", clientMsgId: sent.clientMsgId, message: stored });
    socket.push({ type: "message", message: message("r1", 4) }); // gap: catch-up from 2
    await settle();
    socket.answer("history", { ...page("r1", []), messages: [stored, message("r1", 3), message("r1", 4)] });
    await settle();
    const messages = h.client.getSnapshot().rooms[0]?.messages ?? [];
    expect(messages.map((m) => [m.seq, m.status])).toEqual([[1, "sent"], [2, "sent"], [3, "sent"], [4, "sent"]]);
    expect(new Set(messages.map((m) => m.key)).size).toBe(4);
  });

  it("catches up at start the rooms whose stored last seq is behind, and only those", async () => {
    const storage = memoryStore();
    const [before, socket] = await opened(2, harness({ storage }));
    void socket;
    before.client.stop();
    const after = harness({ storage });
    const reopened = await after.connect([room("r1", { lastSeq: 5 }), room("r2", { lastSeq: 9 })]);
    expect(reopened.frames("sync")).toEqual([expect.objectContaining({ rooms: { r1: 2 } })]);
    reopened.answer("sync", { type: "sync", rooms: [news("r1", page("r1", [3, 4, 5]).messages)], left: [] });
    await settle();
    expect(seqsOf(after)).toEqual([3, 4, 5]);
  });

  it("waits and goes on when a catch-up is rate limited", async () => {
    const [h, first] = await opened(2);
    first.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1", { lastSeq: 3 })]);
    second.answerError("sync", "rate_limited", { retryAfterMs: 4_000 });
    await vi.advanceTimersByTimeAsync(3_999);
    expect(second.pending("sync")).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(second.pending("sync")).toMatchObject({ rooms: { r1: 2 } });
    second.answer("sync", { type: "sync", rooms: [news("r1", [message("r1", 3)])], left: [] });
    await settle();
    expect(seqsOf(h)).toEqual([1, 2, 3]);
  });

  it("jumps to the latest page when too much was missed to load it all", async () => {
    const [h, first] = await opened(2);
    first.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1", { lastSeq: 5000 })]);
    expect(second.pending("history")).toEqual(expect.objectContaining({ roomId: "r1", limit: 50 }));
    expect(second.pending("history")?.afterSeq).toBeUndefined();
    second.answer("history", page("r1", range(4951, 5000), true));
    await settle();
    expect(seqsOf(h)?.[0]).toBe(4951);
    expect(h.client.getSnapshot().rooms[0]?.hasOlder).toBe(true);
  });
});

describe("opening rooms and older pages", () => {
  it("openRoom loads the latest page once; loadOlder pages back from the oldest loaded", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 120 })]);
    const opening = h.client.openRoom("r1");
    await settle();
    expect(socket.pending("history")).toEqual({ action: "history", roomId: "r1", limit: 50, requestId: expect.any(String) });
    socket.answer("history", page("r1", range(71, 120), true));
    await opening;
    await h.client.openRoom("r1");
    expect(socket.frames("history")).toHaveLength(1);
    const loading = h.client.loadOlder("r1");
    await settle();
    expect(h.client.getSnapshot().rooms[0]?.loadingOlder).toBe(true);
    expect(socket.pending("history")).toMatchObject({ beforeSeq: 71, limit: 50 });
    socket.answer("history", page("r1", range(21, 70), true));
    await expect(loading).resolves.toBe(true);
    const older = h.client.loadOlder("r1");
    await settle();
    socket.answer("history", page("r1", range(1, 20), false));
    await expect(older).resolves.toBe(false);
    const state = h.client.getSnapshot().rooms[0];
    expect(state?.messages.map((m) => m.seq)).toEqual(range(1, 120));
    expect(state).toMatchObject({ hasOlder: false, loadingOlder: false });
  });

  it("marks loaded history as not live and pushes as live", async () => {
    const h = harness();
    const events: [number | null, boolean][] = [];
    h.client.on("message", (event) => events.push([event.message.seq, event.live]));
    const socket = await h.connect([room("r1", { lastSeq: 2 })]);
    const opening = h.client.openRoom("r1");
    await settle();
    socket.answer("history", page("r1", [1, 2]));
    await opening;
    socket.push({ type: "message", message: message("r1", 3) });
    socket.push({ type: "message", message: message("r1", 3) }); // a duplicate: no second event
    expect(events).toEqual([[1, false], [2, false], [3, true]]);
  });

  it("finds a loaded message by id (for reply quotes)", async () => {
    const [h] = await opened(3);
    expect(h.client.getMessage("r1", "r1-m2")?.seq).toBe(2);
    expect(h.client.getMessage("r1", "nope")).toBeUndefined();
  });
});
