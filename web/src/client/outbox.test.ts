import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ErrorCode } from "./protocol";
import { memoryStore } from "./storage";
import { harness, message, ME, news, room, settle } from "./testing";
import type { ChatMessage } from "./types";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

function messagesOf(h: ReturnType<typeof harness>, roomId = "r1"): ChatMessage[] {
  return h.client.getSnapshot().rooms.find((state) => state.room.id === roomId)?.messages ?? [];
}

function ack(frame: Record<string, string>, seq: number) {
  return {
    type: "ack",
    clientMsgId: frame.clientMsgId,
    message: message(frame.roomId ?? "r1", seq, {
      senderId: ME.id, senderName: ME.name, content: frame.content, clientMsgId: frame.clientMsgId,
    }),
  };
}

describe("sending", () => {
  it("shows the message as pending at once, then sent on its ack under the same key", async () => {
    const h = harness();
    const socket = await h.connect([room("r1")]);
    const pending = h.client.send("r1", "hello", { replyToId: "r1-m1" });
    expect(pending).toMatchObject({ status: "pending", id: null, seq: null, content: "hello", replyToId: "r1-m1" });
    expect(pending.key).toBe(pending.clientMsgId);
    await settle();
    expect(messagesOf(h)).toEqual([pending]);
    const frame = socket.frames("sendMessage")[0];
    expect(frame).toMatchObject({ roomId: "r1", content: "hello", clientMsgId: pending.clientMsgId, replyToId: "r1-m1" });
    socket.answer("sendMessage", ack(frame!, 1));
    await settle();
    expect(messagesOf(h)).toEqual([
      expect.objectContaining({ key: pending.key, status: "sent", seq: 1, id: "r1-m1", content: "hello" }),
    ]);
  });

  const refusals: ErrorCode[] = ["bad_request", "too_large", "forbidden", "not_found", "rejected"];
  it.each(refusals)("fails with the reason when the server answers %s", async (code) => {
    const h = harness();
    const socket = await h.connect([room("r1")]);
    const sent = h.client.send("r1", "hello");
    socket.answerError("sendMessage", code, { message: `the server says ${code}` });
    await settle();
    expect(messagesOf(h)).toEqual([
      expect.objectContaining({ key: sent.key, status: "failed", error: { code, message: `the server says ${code}` } }),
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(socket.frames("sendMessage")).toHaveLength(1); // refused for good: not sent again by itself
  });

  const laterCodes: ErrorCode[] = ["rate_limited", "unavailable", "internal"];
  it.each(laterCodes)("on %s shows the countdown, then sends again after retryAfterMs with the same clientMsgId", async (code) => {
    const h = harness();
    const socket = await h.connect([room("r1")]);
    const sent = h.client.send("r1", "hello");
    socket.answerError("sendMessage", code, { message: `busy (${code})`, retryAfterMs: 2_000 });
    await settle();
    expect(messagesOf(h)[0]).toMatchObject({
      status: "failed",
      error: { code, message: `busy (${code})`, retryAt: Date.now() + 2_000 },
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(socket.frames("sendMessage")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.frames("sendMessage").map((f) => f.clientMsgId)).toEqual([sent.clientMsgId, sent.clientMsgId]);
    expect(messagesOf(h)[0]).toMatchObject({ status: "pending" });
    socket.answer("sendMessage", ack(socket.frames("sendMessage")[1]!, 1));
    await settle();
    expect(messagesOf(h)).toEqual([expect.objectContaining({ status: "sent", seq: 1, key: sent.key })]);
    expect(messagesOf(h)[0]?.error).toBeUndefined();
  });

  it("gives up after a bounded number of attempts, keeping the last reason", async () => {
    const h = harness({ maxSendAttempts: 3 });
    const socket = await h.connect([room("r1")]);
    h.client.send("r1", "hello");
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      socket.answerError("sendMessage", "rate_limited", { retryAfterMs: 1_000 });
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(socket.frames("sendMessage")).toHaveLength(3);
    expect(messagesOf(h)[0]).toMatchObject({ status: "failed", error: { code: "rate_limited" } });
    expect(messagesOf(h)[0]?.error?.retryAt).toBeUndefined(); // no countdown: waits for the user
  });

  it("retry() sends a failed message again with the same clientMsgId; discard() drops it", async () => {
    const h = harness();
    const socket = await h.connect([room("r1")]);
    const sent = h.client.send("r1", "hello");
    socket.answerError("sendMessage", "rejected");
    await settle();
    h.client.retry(sent.clientMsgId);
    expect(messagesOf(h)[0]).toMatchObject({ status: "pending" });
    expect(socket.frames("sendMessage").map((f) => f.clientMsgId)).toEqual([sent.clientMsgId, sent.clientMsgId]);
    socket.answerError("sendMessage", "rejected");
    await settle();
    h.client.discard(sent.clientMsgId);
    expect(messagesOf(h)).toEqual([]);
  });

  it("fails blank and over-long content locally, without sending", async () => {
    const h = harness();
    const socket = await h.connect([room("r1")]);
    expect(h.client.send("r1", "  \n ")).toMatchObject({ status: "failed", error: { code: "bad_request" } });
    expect(h.client.send("r1", "x".repeat(4001))).toMatchObject({ status: "failed", error: { code: "too_large" } });
    // 4000 emoji are 8000 UTF-16 units but 4000 characters, as the server counts: allowed.
    expect(h.client.send("r1", "😀".repeat(4000))).toMatchObject({ status: "pending" });
    expect(socket.frames("sendMessage")).toHaveLength(1);
  });

  it("sends one message at a time per room, so the room stores them in order", async () => {
    const h = harness();
    const socket = await h.connect([room("r1"), room("r2")]);
    h.client.send("r1", "one");
    h.client.send("r1", "two");
    h.client.send("r2", "elsewhere");
    expect(socket.frames("sendMessage").map((f) => f.content)).toEqual(["one", "elsewhere"]);
    socket.answer("sendMessage", ack(socket.frames("sendMessage")[0]!, 1));
    await settle();
    expect(socket.frames("sendMessage").map((f) => f.content)).toEqual(["one", "elsewhere", "two"]);
    expect(messagesOf(h).map((m) => [m.content, m.status])).toEqual([["one", "sent"], ["two", "pending"]]);
  });
});

describe("across connections", () => {
  it("sends a message written while the socket is down once, after the reconnect, with the same clientMsgId", async () => {
    const h = harness();
    const first = await h.connect([room("r1")]);
    first.drop();
    const sent = h.client.send("r1", "written offline");
    expect(messagesOf(h)[0]).toMatchObject({ status: "pending", key: sent.key });
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1")]);
    expect(second.frames("sendMessage").map((f) => f.clientMsgId)).toEqual([sent.clientMsgId]);
    expect(first.frames("sendMessage")).toHaveLength(0);
    second.answer("sendMessage", ack(second.frames("sendMessage")[0]!, 1));
    await settle();
    expect(messagesOf(h)).toEqual([expect.objectContaining({ status: "sent", key: sent.key })]);
    expect(second.frames("sendMessage")).toHaveLength(1);
  });

  it("keeps a message whose reply never came pending, and sends it again with the same clientMsgId", async () => {
    const h = harness();
    const first = await h.connect([room("r1")]);
    const sent = h.client.send("r1", "lost reply");
    first.drop();
    await settle();
    expect(messagesOf(h)[0]).toMatchObject({ status: "pending" });
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1", { lastSeq: 0 })]);
    expect(second.frames("sendMessage").map((f) => f.clientMsgId)).toEqual([sent.clientMsgId]);
    // The server stored it the first time: the ack holds that copy; it is shown once.
    second.answer("sendMessage", ack(second.frames("sendMessage")[0]!, 1));
    await settle();
    expect(messagesOf(h)).toHaveLength(1);
  });

  it("keeps the outbox in storage and sends it again after a reload, with the same clientMsgIds", async () => {
    const storage = memoryStore();
    const before = harness({ storage });
    const socket = await before.connect([room("r1")]);
    const sent = before.client.send("r1", "survives a reload");
    const refused = before.client.send("r1", "refused");
    void refused;
    socket.answerError("sendMessage", "rate_limited", { retryAfterMs: 60_000 });
    await settle();
    before.client.stop(); // the tab goes away

    const after = harness({ storage }); // a reload: new client, same storage
    after.client.start(ME);
    await settle();
    expect(messagesOf(after)).toEqual([]); // rooms not listed yet, but the outbox is already there:
    const reopened = await after.reopen([room("r1")]);
    expect(messagesOf(after).map((m) => [m.content, m.status])).toEqual([
      ["survives a reload", "pending"],
      ["refused", "pending"],
    ]);
    expect(reopened.frames("sendMessage").map((f) => f.clientMsgId)).toEqual([sent.clientMsgId]);
    reopened.answer("sendMessage", ack(reopened.frames("sendMessage")[0]!, 1));
    await settle();
    expect(reopened.frames("sendMessage").map((f) => f.content)).toEqual(["survives a reload", "refused"]);
    reopened.answer("sendMessage", ack(reopened.frames("sendMessage")[1]!, 2));
    await settle();
    expect(JSON.parse(storage.get(`user/${ME.id}/outbox`) ?? "[]")).toEqual([]);
  });

  it("takes a pending message out of the outbox when a catch-up brings it before its ack", async () => {
    const h = harness();
    const first = await h.connect([room("r1", { lastSeq: 1 })]);
    const opening = h.client.openRoom("r1");
    await settle();
    first.answer("history", { type: "history", roomId: "r1", messages: [message("r1", 1)], hasMore: false });
    await opening;
    const sent = h.client.send("r1", "hello");
    first.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1", { lastSeq: 2 })]);
    expect(second.pending("sync")).toMatchObject({ rooms: { r1: 1 } });
    const stored = ack(second.frames("sendMessage")[0]!, 2).message;
    second.answer("sync", { type: "sync", rooms: [news("r1", [stored])], left: [] });
    await settle();
    expect(messagesOf(h).map((m) => [m.seq, m.status, m.key])).toEqual([[1, "sent", "r1-m1"], [2, "sent", sent.key]]);
    second.answer("sendMessage", ack(second.frames("sendMessage")[0]!, 2)); // the late ack changes nothing
    await settle();
    expect(messagesOf(h)).toHaveLength(2);
  });
});
