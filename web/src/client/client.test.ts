import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatRequestError } from "./errors";
import { localStorageStore, memoryStore, type StorageLike } from "./storage";
import { BOB, harness, message, ME, room, settle } from "./testing";
import type { ChatEvent, WebSocketLike } from "./types";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

const roomState = (h: ReturnType<typeof harness>, roomId: string) =>
  h.client.getSnapshot().rooms.find((state) => state.room.id === roomId);

describe("rooms", () => {
  it("lists every page of rooms at start, sorted by latest activity", async () => {
    const h = harness();
    h.client.start(ME);
    await settle();
    const socket = h.socket();
    socket.open();
    await settle();
    expect(h.client.getSnapshot().roomsLoaded).toBe(false);
    socket.answer("listRooms", {
      type: "rooms",
      rooms: [room("quiet", { createdAt: "2025-01-01T10:00:00.000Z" })],
      nextCursor: "page-2",
    });
    await settle();
    expect(socket.pending("listRooms")).toMatchObject({ cursor: "page-2" });
    socket.answer("listRooms", {
      type: "rooms",
      rooms: [
        room("busy", { lastSeq: 3, lastMessage: message("busy", 3, { createdAt: "2025-01-01T12:00:00.000Z" }) }),
        room("new", { createdAt: "2025-01-01T11:00:00.000Z" }),
      ],
    });
    await settle();
    const snapshot = h.client.getSnapshot();
    expect(snapshot.roomsLoaded).toBe(true);
    expect(snapshot.rooms.map((state) => state.room.id)).toEqual(["busy", "new", "quiet"]);
    expect(snapshot.users[BOB.id]?.name).toBe(BOB.name); // learnt from the preview's sender
  });

  it("moves a room to the top when a message arrives", async () => {
    const h = harness();
    const socket = await h.connect([
      room("a", { lastSeq: 1, lastMessage: message("a", 1, { createdAt: "2025-01-01T12:00:00.000Z" }) }),
      room("b", { lastSeq: 1, lastMessage: message("b", 1, { createdAt: "2025-01-01T11:00:00.000Z" }) }),
    ]);
    socket.push({ type: "message", message: message("b", 2, { createdAt: "2025-01-01T13:00:00.000Z" }) });
    await settle();
    expect(h.client.getSnapshot().rooms.map((state) => [state.room.id, state.lastSeq])).toEqual([["b", 2], ["a", 1]]);
    expect(roomState(h, "b")?.room.lastMessage?.seq).toBe(2);
  });

  it("adds a pushed room, and removes it with a roomLeft event once the user is no longer a member", async () => {
    const h = harness();
    const events: ChatEvent[] = [];
    h.client.on("room", (event) => events.push(event));
    h.client.on("roomLeft", (event) => events.push(event));
    const socket = await h.connect([]);
    const pushed = { id: "g", name: "Group", isGroup: true, memberIds: [BOB.id, ME.id], createdAt: "2025-01-03T00:00:00.000Z", memberCount: 2 };
    socket.push({ type: "room", room: pushed });
    await settle();
    expect(roomState(h, "g")?.room).toMatchObject({ name: "Group", lastSeq: 0, lastMessage: null });
    socket.push({ type: "room", room: { ...pushed, name: "Renamed" } });
    await settle();
    expect(roomState(h, "g")?.room.name).toBe("Renamed");
    socket.push({ type: "room", room: { ...pushed, memberIds: [BOB.id], memberCount: 1 } });
    await settle();
    expect(roomState(h, "g")).toBeUndefined();
    expect(events.map((event) => event.type)).toEqual(["room", "room", "roomLeft"]);
  });

  it("keeps a room of over 100 members whose partial member list does not name the user", async () => {
    const h = harness();
    const socket = await h.connect([room("big")]);
    const memberIds = Array.from({ length: 100 }, (_, i) => `a-${i}`);
    socket.push({ type: "room", room: { ...room("big"), memberIds, memberCount: 250 } });
    await settle();
    expect(roomState(h, "big")?.room.memberCount).toBe(250);
  });

  it("drops at reconnect the rooms the user left meanwhile", async () => {
    const h = harness();
    const left: string[] = [];
    h.client.on("roomLeft", (event) => left.push(event.roomId));
    const first = await h.connect([room("a"), room("b")]);
    first.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    await h.reopen([room("a")]);
    expect(h.client.getSnapshot().rooms.map((state) => state.room.id)).toEqual(["a"]);
    expect(left).toEqual(["b"]);
  });

  it("creates rooms, opens direct rooms, adds members and leaves through requests", async () => {
    const h = harness();
    const socket = await h.connect([]);
    const created = h.client.createRoom("Team", [BOB.id]);
    expect(socket.pending("createRoom")).toMatchObject({ name: "Team", memberIds: [BOB.id] });
    const team = { id: "t", name: "Team", isGroup: true, memberIds: [BOB.id, ME.id], createdAt: "2025-01-03T00:00:00.000Z", memberCount: 2 };
    socket.answer("createRoom", { type: "room", room: team });
    await expect(created).resolves.toMatchObject({ id: "t", name: "Team", lastSeq: 0 });
    expect(roomState(h, "t")).toBeDefined();

    const adding = h.client.addMembers("t", ["u-carol"]);
    socket.answer("addMembers", { type: "room", room: { ...team, memberIds: [...team.memberIds, "u-carol"], memberCount: 3 } });
    await expect(adding).resolves.toMatchObject({ memberCount: 3 });
    await expect(h.client.addMembers("t", [])).rejects.toBeInstanceOf(ChatRequestError);

    const leaving = h.client.leaveRoom("t");
    socket.answer("leaveRoom", { type: "room", room: { ...team, memberIds: [BOB.id], memberCount: 1 } });
    await leaving;
    expect(roomState(h, "t")).toBeUndefined();

    const direct = h.client.openDirect(BOB.id);
    expect(socket.pending("openDirect")).toMatchObject({ userId: BOB.id });
    socket.answerError("openDirect", "not_found", { message: "No such user" });
    await expect(direct).rejects.toMatchObject({ code: "not_found", message: "No such user", action: "openDirect" });
  });
});

describe("people", () => {
  it("names the other member of a direct room from presence when nothing else named them", async () => {
    const h = harness();
    const socket = await h.connect([room("direct", { isGroup: false, name: null }), room("group")]);
    await settle();
    expect(socket.pending("presence")).toMatchObject({ roomId: "direct" });
    socket.answer("presence", {
      type: "presence",
      roomId: "direct",
      users: [{ userId: BOB.id, online: true, lastSeen: null, name: "Bob", avatarUrl: "https://a/b.png" }],
    });
    await settle();
    expect(h.client.getSnapshot().users[BOB.id]).toMatchObject({ name: "Bob", avatarUrl: "https://a/b.png", online: true });
    expect(socket.pending("presence")).toBeUndefined(); // the group has a name of its own
  });

  it("searches users, keeps presence pages and pushes, and profile changes", async () => {
    const h = harness();
    const presenceEvents: string[] = [];
    h.client.on("presence", (event) => presenceEvents.push(`${event.user.id}:${event.user.online}`));
    const socket = await h.connect([room("r1")]);
    const search = h.client.searchUsers("bo");
    expect(socket.pending("listUsers")).toMatchObject({ query: "bo" });
    socket.answer("listUsers", {
      type: "users",
      users: [{ id: BOB.id, name: "Bob", online: false, lastSeen: "2025-01-01T00:00:00.000Z", avatarUrl: null }],
    });
    await expect(search).resolves.toEqual([
      { id: BOB.id, name: "Bob", online: false, lastSeen: "2025-01-01T00:00:00.000Z", avatarUrl: null },
    ]);

    socket.push({ type: "presence", userId: BOB.id, online: true, lastSeen: null });
    await settle();
    expect(h.client.getSnapshot().users[BOB.id]).toMatchObject({ name: "Bob", online: true });

    const refreshing = h.client.refreshPresence("r1");
    socket.answer("presence", { type: "presence", roomId: "r1", users: [{ userId: BOB.id, online: false, lastSeen: "2025-01-02T00:00:00.000Z", name: "Bob", avatarUrl: null }], nextCursor: "c2" });
    await settle();
    expect(socket.pending("presence")).toMatchObject({ roomId: "r1", cursor: "c2" });
    socket.answer("presence", { type: "presence", roomId: "r1", users: [{ userId: "u-carol", online: true, lastSeen: null, name: "Carol", avatarUrl: null }] });
    await refreshing;
    expect(h.client.getSnapshot().users["u-carol"]).toMatchObject({ online: true, name: "Carol" });
    expect(presenceEvents).toEqual([`${BOB.id}:true`, `${BOB.id}:false`, "u-carol:true"]);

    // A big room: at most PRESENCE_MAX_PAGES pages, however many members follow.
    const big = h.client.refreshPresence("r-big", 2);
    for (const cursor of ["p2", "p3"]) {
      socket.answer("presence", { type: "presence", roomId: "r-big", users: [], nextCursor: cursor });
      await settle();
    }
    await big;
    expect(socket.pending("presence")).toBeUndefined();

    socket.push({ type: "profile", user: { id: BOB.id, name: "Robert", online: false, lastSeen: null, avatarUrl: "https://a/b.png" } });
    await settle();
    expect(h.client.getSnapshot().users[BOB.id]).toMatchObject({ name: "Robert", avatarUrl: "https://a/b.png" });

    const updating = h.client.updateProfile({ name: "Me Too" });
    expect(socket.pending("updateProfile")).toMatchObject({ name: "Me Too" });
    socket.answer("updateProfile", { type: "profile", user: { id: ME.id, name: "Me Too", online: true, lastSeen: null, avatarUrl: null } });
    await expect(updating).resolves.toMatchObject({ name: "Me Too" });
    expect(h.client.getSnapshot().me).toEqual({ id: ME.id, name: "Me Too" });
  });
});

describe("typing", () => {
  it("shows who types, until they stop, send a message, or 6 s pass", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 1 })]);
    const typing = (isTyping: boolean, userId = BOB.id) =>
      socket.push({ type: "typing", roomId: "r1", userId, userName: userId === BOB.id ? "Bob" : "Carol", isTyping });
    typing(true);
    typing(true, "u-carol");
    await settle();
    expect(roomState(h, "r1")?.typing.map((t) => t.userName)).toEqual(["Bob", "Carol"]);
    expect(roomState(h, "r1")?.typing[0]?.until).toBe(Date.now() + 6_000);
    typing(false, "u-carol");
    await settle();
    expect(roomState(h, "r1")?.typing.map((t) => t.userName)).toEqual(["Bob"]);
    socket.push({ type: "message", message: message("r1", 2) });
    await settle();
    expect(roomState(h, "r1")?.typing).toEqual([]);

    typing(true);
    await vi.advanceTimersByTimeAsync(5_000);
    typing(true); // still typing: the expiry starts over
    await vi.advanceTimersByTimeAsync(5_999);
    expect(roomState(h, "r1")?.typing).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(roomState(h, "r1")?.typing).toEqual([]);
  });

  it("sends at most one `true` per 3 s, and `false` once after a `true`", async () => {
    const h = harness();
    const socket = await h.connect([room("r1")]);
    const sent = () => socket.frames("typing").map((f) => f.isTyping);
    h.client.setTyping("r1", false);
    expect(sent()).toEqual([]);
    h.client.setTyping("r1", true);
    h.client.setTyping("r1", true);
    await vi.advanceTimersByTimeAsync(2_999);
    h.client.setTyping("r1", true);
    expect(sent()).toEqual([true]);
    await vi.advanceTimersByTimeAsync(1);
    h.client.setTyping("r1", true);
    expect(sent()).toEqual([true, true]);
    h.client.setTyping("r1", false);
    h.client.setTyping("r1", false);
    expect(sent()).toEqual([true, true, false]);
    h.client.setTyping("r1", true); // typing again right after stopping is news
    expect(sent()).toEqual([true, true, false, true]);
    expect(socket.frames("typing")[0]).toMatchObject({ roomId: "r1", requestId: expect.any(String) });
  });
});

describe("unread counts", () => {
  it("takes the server's read marker and unread count, then counts others' messages after it", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 10, readSeq: 4, unreadCount: 5 })]); // one of 5..10 is mine
    expect(roomState(h, "r1")).toMatchObject({ readSeq: 4, unreadCount: 5 });
    socket.push({ type: "message", message: message("r1", 11) });
    await settle();
    // The server's count plus the messages of others pushed since.
    expect(roomState(h, "r1")).toMatchObject({ lastSeq: 11, readSeq: 4, unreadCount: 6 });
    socket.push({ type: "message", message: message("r1", 12, { senderId: ME.id }) }); // mine, from another device
    socket.push({ type: "message", message: message("r1", 13) });
    await settle();
    expect(roomState(h, "r1")).toMatchObject({ lastSeq: 13, readSeq: 12, unreadCount: 1 });
    h.client.markRead("r1", 13);
    await settle();
    expect(roomState(h, "r1")).toMatchObject({ readSeq: 13, unreadCount: 0 });
    h.client.markRead("r1", 5); // forward only
    await settle();
    expect(roomState(h, "r1")?.readSeq).toBe(13);
  });

  it("counts only others' messages when everything after the marker is loaded, else lastSeq - readSeq", async () => {
    const storage = memoryStore();
    storage.set(`user/${ME.id}/read`, JSON.stringify({ r1: 2, r2: 1 })); // not a first run
    const h = harness({ storage });
    const socket = await h.connect([room("r1", { lastSeq: 2 }), room("r2", { lastSeq: 7 }), room("r3", { lastSeq: 4 })]);
    expect(roomState(h, "r2")?.unreadCount).toBe(6); // nothing loaded: estimated
    expect(roomState(h, "r3")).toMatchObject({ readSeq: 0, unreadCount: 4 }); // new on this device
    const opening = h.client.openRoom("r1");
    await settle();
    socket.answer("history", { type: "history", roomId: "r1", messages: [message("r1", 1), message("r1", 2)], hasMore: false });
    await opening;
    socket.push({ type: "message", message: message("r1", 3) });
    socket.push({ type: "message", message: message("r1", 4, { senderId: "u-carol" }) });
    await settle();
    expect(roomState(h, "r1")).toMatchObject({ readSeq: 2, unreadCount: 2 });
    // Sending moves the marker: what one writes after, one has read.
    const sent = h.client.send("r1", "reply");
    socket.answer("sendMessage", {
      type: "ack", clientMsgId: sent.clientMsgId,
      message: message("r1", 5, { senderId: ME.id, clientMsgId: sent.clientMsgId, content: "reply" }),
    });
    await settle();
    expect(roomState(h, "r1")).toMatchObject({ readSeq: 5, unreadCount: 0 });
    await settle();
    expect(JSON.parse(storage.get(`user/${ME.id}/read`) ?? "{}")).toMatchObject({ r1: 5 });
  });

  it("keeps read markers per device across a reload (localStorage)", async () => {
    const backing = new Map<string, string>();
    const local: StorageLike = {
      getItem: (key) => backing.get(key) ?? null,
      setItem: (key, value) => void backing.set(key, value),
      removeItem: (key) => void backing.delete(key),
    };
    const first = harness({ storage: localStorageStore(local, "chat:") });
    const socket = await first.connect([room("r1", { lastSeq: 3 })]);
    socket.drop();
    first.client.markRead("r1", 3); // read while the server could not be told
    await settle();
    first.client.stop();
    const second = harness({ storage: localStorageStore(local, "chat:") });
    const reopened = await second.connect([room("r1", { lastSeq: 8 })]);
    expect(roomState(second, "r1")).toMatchObject({ readSeq: 3, unreadCount: 5 });
    // The server is told what this device read meanwhile.
    expect(reopened.frames("markRead")).toEqual([expect.objectContaining({ roomId: "r1", seq: 3 })]);
    expect([...backing.keys()].every((key) => key.startsWith("chat:user/u-me/"))).toBe(true);
  });
});

describe("snapshots and events", () => {
  it("returns the same snapshot until something changes, and notifies once per batch", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 1 }), room("r2")]);
    const listener = vi.fn();
    h.client.subscribe(listener);
    const before = h.client.getSnapshot();
    expect(h.client.getSnapshot()).toBe(before);
    socket.push({ type: "message", message: message("r1", 2) });
    socket.push({ type: "message", message: message("r1", 3) });
    socket.push({ type: "presence", userId: BOB.id, online: true, lastSeen: null });
    expect(listener).not.toHaveBeenCalled();
    await settle();
    expect(listener).toHaveBeenCalledTimes(1);
    const after = h.client.getSnapshot();
    expect(after).not.toBe(before);
    expect(roomState(h, "r2")).toBe(before.rooms.find((state) => state.room.id === "r2")); // unchanged room kept
    expect(after.rooms.find((state) => state.room.id === "r1")).not.toBe(before.rooms.find((state) => state.room.id === "r1"));
    expect(before.rooms.find((state) => state.room.id === "r1")?.messages).toEqual([]); // the old one was not mutated
  });

  it("reports API Gateway's `Internal server error` frame and stray error frames as error events", async () => {
    const h = harness();
    const errors: ChatRequestError[] = [];
    h.client.on("error", (event) => errors.push(event.error));
    const socket = await h.connect([]);
    socket.push({ message: "Internal server error", connectionId: "c1", requestId: "aws-request-id" });
    socket.push({ type: "error", code: "bad_request", message: "not JSON" });
    socket.push({ type: "error", code: "shiny_new_code", message: "from a later protocol" });
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ["internal", "Internal server error"],
      ["bad_request", "not JSON"],
      ["internal", "from a later protocol"],
    ]);
  });

  it("ignores frames it does not know and malformed ones", async () => {
    const h = harness();
    const socket = await h.connect([]);
    const before = h.client.getSnapshot();
    socket.push({ type: "somethingNew", value: 1 });
    socket.onmessage?.({ data: "not json" });
    await settle();
    expect(h.client.getSnapshot()).toBe(before);
  });

  it("accepts the DOM's WebSocket as a WebSocketLike (checked by tsc)", () => {
    const fromDom = (socket: WebSocket): WebSocketLike => socket;
    expect(fromDom).toBeTypeOf("function");
  });
});

describe("read markers on the server", () => {
  it("sends markRead at most once a second per room, only forward, and after an own message's ack", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 10, readSeq: 2 })]);
    h.client.markRead("r1", 5);
    h.client.markRead("r1", 6);
    h.client.markRead("r1", 7);
    expect(socket.frames("markRead").map((f) => f.seq)).toEqual([5]);
    await vi.advanceTimersByTimeAsync(999);
    expect(socket.frames("markRead")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.frames("markRead").map((f) => f.seq)).toEqual([5, 7]);
    socket.push({ type: "read", roomId: "r1", userId: ME.id, seq: 7, requestId: socket.frames("markRead")[1]!.requestId });
    await vi.advanceTimersByTimeAsync(2_000);
    h.client.markRead("r1", 6); // behind the server's marker: nothing to send
    await vi.advanceTimersByTimeAsync(2_000);
    expect(socket.frames("markRead")).toHaveLength(2);
    const sent = h.client.send("r1", "mine");
    socket.answer("sendMessage", {
      type: "ack", clientMsgId: sent.clientMsgId,
      message: message("r1", 11, { senderId: ME.id, clientMsgId: sent.clientMsgId, content: "mine" }),
    });
    await settle();
    expect(socket.frames("markRead").map((f) => f.seq)).toEqual([5, 7, 11]);
    expect(roomState(h, "r1")).toMatchObject({ readSeq: 11, unreadCount: 0 });
  });

  it("follows the marker of the user's other devices and keeps other members' read receipts", async () => {
    const h = harness();
    const socket = await h.connect([room("r1", { lastSeq: 10, readSeq: 2, unreadCount: 8 })]);
    expect(roomState(h, "r1")?.unreadCount).toBe(8);
    socket.push({ type: "read", roomId: "r1", userId: ME.id, seq: 10 });
    socket.push({ type: "read", roomId: "r1", userId: BOB.id, seq: 9 });
    await settle();
    expect(roomState(h, "r1")).toMatchObject({ readSeq: 10, unreadCount: 0, readBy: { [BOB.id]: 9 } });
    h.client.markRead("r1", 10); // the server has it already
    expect(socket.frames("markRead")).toHaveLength(0);
  });

  it("sends a marker reached while offline once the connection opens", async () => {
    const h = harness();
    const first = await h.connect([room("r1", { lastSeq: 4 })]);
    first.drop();
    h.client.markRead("r1", 4);
    expect(roomState(h, "r1")?.readSeq).toBe(4);
    await vi.advanceTimersByTimeAsync(1_000);
    const second = await h.reopen([room("r1", { lastSeq: 4 })]);
    expect(second.frames("markRead")).toEqual([expect.objectContaining({ roomId: "r1", seq: 4 })]);
  });
});

describe("clientMsgIds", () => {
  it("are UUIDs the server accepts, with or without crypto.randomUUID", async () => {
    const { randomUuid } = await import("./util");
    const pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(randomUuid()).toMatch(pattern);
    vi.stubGlobal("crypto", { getRandomValues: (bytes: Uint8Array) => bytes.fill(0xff) });
    try {
      expect(randomUuid()).toBe("ffffffff-ffff-4fff-bfff-ffffffffffff");
      vi.stubGlobal("crypto", undefined);
      expect(randomUuid()).toMatch(pattern);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
