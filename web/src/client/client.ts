/* The facade the app uses: wires the connection, requests, outbox and room timelines into one snapshot. */
import { Connection, backoffDelay } from "./connection";
import { ChatRequestError } from "./errors";
import { Outbox, type OutboxEntry } from "./outbox";
import type { ClientFrame, Message, MemberPresence, PresencePush, Room, RoomSummary, ServerFrame, TypingPush, UserInfo } from "./protocol";
import { LIMITS } from "./protocol";
import { Requests, replyTypes, type RequestFrame, type ReplyTo } from "./requests";
import { byActivity, isMember, newRoomEntry, roomView, summaryFromRoom, summaryWithMessage, type RoomEntry } from "./rooms";
import { ForwardMarkers, memoryStore, type KeyValueStore } from "./storage";
import { Events, SnapshotStore } from "./store";
import { toUserState, Users } from "./users";
import type { ChatEvent, ChatMessage, ChatSnapshot, ClientOptions, ConnectionState, UserState, WebSocketLike } from "./types";

/** Past this many missed messages a room jumps to its latest page instead of loading them all. */
const MAX_CATCH_UP_MESSAGES = 1000;
/** Rooms caught up at once: the server's flood control counts every frame. */
const CATCH_UP_CONCURRENCY = 2;
/** Tries of a background request (listing, catch-up) told to wait (rate_limited, unavailable, internal). */
const BACKGROUND_TRIES = 5;

type Me = { id: string; name: string };

/** Pages of presence a refresh reads at most (see `refreshPresence`). */
export const PRESENCE_MAX_PAGES = 3;

export class ChatClient {
  private readonly connection: Connection;
  private readonly requests: Requests;
  private readonly store = new SnapshotStore<ChatSnapshot>(() => this.buildSnapshot());
  private readonly events = new Events();
  private readonly storage: KeyValueStore;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly randomUUID: () => string;
  private readonly settings: Required<Omit<ClientOptions, "url" | "getToken" | "storage" | "createSocket" | "random" | "now" | "randomUUID">>;

  private me: Me | null = null;
  private connectionState: ConnectionState = { status: "offline", reason: "not started" };
  private rooms = new Map<string, RoomEntry>();
  private readonly users = new Users(() => this.store.invalidate());
  private roomsLoaded = false;
  private outbox: Outbox | null = null;
  private seen: ForwardMarkers | null = null;
  private read: ForwardMarkers | null = null;
  private readonly catchUps = new Map<string, Promise<void>>();
  private readonly latestLoads = new Map<string, Promise<void>>();
  /** Rooms the app opened: their latest page is loaded whenever a connection allows it. */
  private readonly opened = new Set<string>();
  private readonly typingSent = new Map<string, { lastTrueAt: number; active: boolean }>();
  /** Bumped on every open: work for an older connection stops. */
  private syncGeneration = 0;
  private typingCounter = 0;

  constructor(options: ClientOptions) {
    this.storage = options.storage ?? memoryStore();
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.randomUUID = options.randomUUID ?? randomUuid;
    this.settings = {
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffCapMs: options.backoffCapMs ?? 30_000,
      pingIntervalMs: options.pingIntervalMs ?? 5 * 60_000,
      maxConnectionAgeMs: options.maxConnectionAgeMs ?? 110 * 60_000,
      stableAfterMs: options.stableAfterMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      sendTimeoutMs: options.sendTimeoutMs ?? 30_000,
      typingExpiryMs: options.typingExpiryMs ?? 6_000,
      typingThrottleMs: options.typingThrottleMs ?? 3_000,
      maxSendAttempts: options.maxSendAttempts ?? 5,
    };
    this.requests = new Requests((socketId) => this.connection.declareDead(socketId));
    this.connection = new Connection({
      url: options.url,
      getToken: options.getToken,
      createSocket: options.createSocket ?? defaultSocket,
      random: this.random,
      now: this.now,
      backoffBaseMs: this.settings.backoffBaseMs,
      backoffCapMs: this.settings.backoffCapMs,
      pingIntervalMs: this.settings.pingIntervalMs,
      pongTimeoutMs: this.settings.requestTimeoutMs,
      maxConnectionAgeMs: this.settings.maxConnectionAgeMs,
      stableAfterMs: this.settings.stableAfterMs,
      drainMs: this.settings.sendTimeoutMs, // replies still due on a replaced socket get their full time
      onState: (state) => this.setConnectionState(state),
      onOpen: ({ resumed }) => this.handleOpen(resumed),
      onFrame: (frame) => this.handleFrame(frame),
      onSocketClosed: (socketId) => this.requests.failSocket(socketId),
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Connects; every open lists the rooms (all pages) and catches up the rooms with news. */
  start(me: Me): void {
    if (this.me?.id !== me.id) this.loadUser(me);
    this.me = { ...me };
    this.store.invalidate();
    this.connection.start();
  }

  /** Closes the socket and stops the timers; the snapshot stays readable. */
  stop(): void {
    this.connection.stop();
    for (const entry of this.rooms.values()) this.clearTyping(entry);
  }

  /** The auth module has a new token: reconnect with it (keeping the old socket until the new one opens). */
  tokenRefreshed(): void {
    if (this.connection.state.status === "signedOut") this.connection.start();
    else this.connection.renew();
  }

  /** The runtime's network hint (`navigator.onLine` events, NetInfo on React Native). */
  setNetworkOnline(online: boolean): void {
    this.connection.setNetworkOnline(online);
  }

  getSnapshot = (): ChatSnapshot => this.store.get();
  subscribe = (listener: () => void): (() => void) => this.store.subscribe(listener);

  on<T extends ChatEvent["type"]>(type: T, handler: (event: Extract<ChatEvent, { type: T }>) => void): () => void {
    return this.events.on(type, handler);
  }

  // ---- messages --------------------------------------------------------------------------------------------

  /** Shown at once as pending; sent now or after the next (re)connect, always with the same clientMsgId. */
  send(roomId: string, content: string, options: { replyToId?: string } = {}): ChatMessage {
    const { me, outbox } = this.started();
    this.typingSent.delete(roomId); // the message ends the typing on the other side; the next key press counts anew
    const entry = outbox.add({
      clientMsgId: this.randomUUID(),
      roomId,
      content,
      replyToId: options.replyToId ?? null,
      senderId: me.id,
      senderName: me.name,
      createdAt: new Date(this.now()).toISOString(),
    });
    return outbox.message(entry.clientMsgId) as ChatMessage;
  }

  retry(clientMsgId: string): void {
    this.outbox?.retry(clientMsgId);
  }

  discard(clientMsgId: string): void {
    this.outbox?.discard(clientMsgId);
  }

  /** Throttled: at most one `true` per typingThrottleMs; `false` only after a `true`. */
  setTyping(roomId: string, isTyping: boolean): void {
    const state = this.typingSent.get(roomId) ?? { lastTrueAt: -Infinity, active: false };
    this.typingSent.set(roomId, state);
    if (isTyping) {
      if (this.now() - state.lastTrueAt < this.settings.typingThrottleMs) return;
      state.lastTrueAt = this.now();
      state.active = true;
    } else {
      if (!state.active) return;
      state.active = false;
      state.lastTrueAt = -Infinity;
    }
    // A requestId of our own that nothing waits for: an error about it (rate_limited) is not worth showing.
    this.connection.send({ action: "typing", roomId, isTyping, requestId: `typing-${++this.typingCounter}` });
  }

  /** Loads the room's latest page unless messages are loaded (a room with news is caught up first). */
  async openRoom(roomId: string): Promise<void> {
    this.opened.add(roomId);
    const entry = this.rooms.get(roomId);
    if (entry && this.hasNews(entry)) await this.catchUp(roomId);
    else await this.catchUps.get(roomId);
    if ((this.rooms.get(roomId)?.timeline.messages.length ?? 0) === 0) await this.loadLatest(roomId);
  }

  /** One page before the oldest loaded message; resolves to whether older ones remain. */
  async loadOlder(roomId: string): Promise<boolean> {
    const entry = this.entry(roomId);
    const oldest = entry.timeline.oldestSeq;
    if (oldest === null) {
      await this.openRoom(roomId);
      return (this.rooms.get(roomId)?.timeline.oldestSeq ?? 1) > 1;
    }
    if (oldest <= 1 || entry.loadingOlder) return oldest > 1;
    this.setLoadingOlder(entry, true);
    try {
      const page = await this.backgroundRequest({ action: "history", roomId, beforeSeq: oldest, limit: LIMITS.historyDefaultLimit });
      this.addMessages(roomId, page.messages, false);
    } finally {
      this.setLoadingOlder(entry, false);
    }
    return (entry.timeline.oldestSeq ?? 1) > 1;
  }

  /** Moves forward only; persisted on this device. */
  markRead(roomId: string, seq: number): void {
    const entry = this.rooms.get(roomId);
    const lastSeq = Math.max(entry?.summary?.lastSeq ?? 0, entry?.timeline.newestSeq ?? 0);
    if (this.read?.advance(roomId, Math.min(seq, lastSeq))) this.roomChanged(roomId);
  }

  getMessage(roomId: string, id: string): ChatMessage | undefined {
    return this.rooms.get(roomId)?.timeline.findById(id);
  }

  // ---- rooms and people ------------------------------------------------------------------------------------

  async createRoom(name: string, memberIds: string[]): Promise<RoomSummary> {
    const reply = await this.request({ action: "createRoom", name, memberIds });
    return this.summaryAfter(reply.room);
  }

  async openDirect(userId: string): Promise<RoomSummary> {
    const reply = await this.request({ action: "openDirect", userId });
    return this.summaryAfter(reply.room);
  }

  async addMembers(roomId: string, memberIds: string[]): Promise<RoomSummary> {
    const [first, ...rest] = memberIds;
    if (first === undefined) throw new ChatRequestError("bad_request", "Name at least one member to add");
    const reply = await this.request({ action: "addMembers", roomId, memberIds: [first, ...rest] });
    return this.summaryAfter(reply.room);
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.request({ action: "leaveRoom", roomId });
    this.removeRoom(roomId); // even when the reply's member list is partial (a room of over 100 members)
  }

  /** The first page of users whose name starts with `query`. */
  async searchUsers(query: string): Promise<UserState[]> {
    const reply = await this.request({ action: "listUsers", query, limit: LIMITS.pageDefaultLimit });
    return reply.users.map((user) => this.users.get(user.id) ?? toUserState(user)); // applied by handleFrame
  }

  /** The room's presence: every member of a room of up to `maxPages` pages (100 members each), the first
   * `maxPages` pages of a bigger one. A room of 10,000 would take 100 frames, more than the user's frame budget
   * (30 per 10 s), and the server pushes no presence to rooms of over 100 members anyway. */
  async refreshPresence(roomId: string, maxPages = PRESENCE_MAX_PAGES): Promise<void> {
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await this.backgroundRequest({ action: "presence", roomId, ...(cursor ? { cursor } : {}) });
      page.users.forEach((member) => this.applyPresence(member));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < maxPages);
  }

  async updateProfile(changes: { name?: string; avatarUrl?: string }): Promise<UserState> {
    const reply = await this.request({ action: "updateProfile", ...changes });
    return this.users.get(reply.user.id) ?? toUserState(reply.user);
  }

  // ---- connection events -----------------------------------------------------------------------------------

  private setConnectionState(state: ConnectionState): void {
    this.connectionState = state;
    this.store.invalidate();
    this.events.emit({ type: "connection", state });
  }

  private handleOpen(resumed: boolean): void {
    const generation = ++this.syncGeneration;
    this.outbox?.flush();
    // A resumed socket replaced an open one: no push was missed, the room list is current.
    void (resumed ? this.catchUpAll(generation) : this.sync(generation)).catch((error: unknown) => this.reportBackground(error));
  }

  private async sync(generation: number): Promise<void> {
    const known = new Set(this.rooms.keys());
    const rooms: RoomSummary[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await this.backgroundRequest({ action: "listRooms", limit: LIMITS.pageMaxLimit, ...(cursor ? { cursor } : {}) });
      if (generation !== this.syncGeneration) return;
      rooms.push(...page.rooms);
      cursor = page.nextCursor;
    } while (cursor);
    this.applyRoomList(rooms, known);
    await this.catchUpAll(generation);
    await this.nameDirectRooms(generation);
  }

  /** A direct room is titled after the other member: ask presence (which names members) for the rooms whose other
   * member no message, search or profile has named yet. */
  private async nameDirectRooms(generation: number): Promise<void> {
    const me = this.me?.id;
    const unnamed = [...this.rooms.values()].filter((entry) => {
      const room = entry.summary;
      const other = room && !room.isGroup ? room.memberIds.find((id) => id !== me) : undefined;
      return other !== undefined && !this.users.get(other)?.name;
    });
    for (const entry of unnamed) {
      if (generation !== this.syncGeneration) return;
      await this.refreshPresence(entry.id).catch((error: unknown) => this.reportBackground(error));
    }
  }

  private applyRoomList(rooms: RoomSummary[], known: Set<string>): void {
    const firstRun = this.read?.existed === false && !this.roomsLoaded;
    const listed = new Set<string>();
    for (const summary of rooms) {
      listed.add(summary.id);
      const entry = this.entry(summary.id);
      entry.summary = entry.summary ? mergeSummary(entry.summary, summary) : summary;
      // A device's first run starts with everything read, not with the whole history unread.
      if (firstRun) this.read?.advance(summary.id, summary.lastSeq);
      if (summary.lastMessage) this.users.learnSender(summary.lastMessage);
      entry.view = null;
    }
    // Rooms left while disconnected (only those known before the listing began: a room pushed since may be newer).
    for (const roomId of known) if (!listed.has(roomId) && this.rooms.get(roomId)?.summary) this.removeRoom(roomId);
    if (firstRun) this.read?.keep();
    this.roomsLoaded = true;
    this.store.invalidate();
  }

  private async catchUpAll(generation: number): Promise<void> {
    const queue = [...this.rooms.values()]
      .filter((entry) => this.hasNews(entry) || (this.opened.has(entry.id) && entry.timeline.messages.length === 0))
      .map((entry) => entry.id);
    const worker = async (): Promise<void> => {
      for (let roomId = queue.shift(); roomId !== undefined; roomId = queue.shift()) {
        if (generation !== this.syncGeneration) return;
        // One room failing (left meanwhile: forbidden) must not hold the others back.
        await this.openOrCatchUp(roomId).catch((error: unknown) => this.reportBackground(error));
      }
    };
    await Promise.all(Array.from({ length: CATCH_UP_CONCURRENCY }, worker));
  }

  private async openOrCatchUp(roomId: string): Promise<void> {
    if (this.opened.has(roomId)) await this.openRoom(roomId);
    else await this.catchUp(roomId);
  }

  // ---- frames ----------------------------------------------------------------------------------------------

  private handleFrame(raw: unknown): void {
    if (typeof raw !== "object" || raw === null) return;
    const untyped = raw as { type?: unknown; message?: unknown };
    if (typeof untyped.type !== "string") {
      // API Gateway's own failure (`{"message": "Internal server error", ...}`): its requestId is not ours.
      if (typeof untyped.message === "string") this.reportError(new ChatRequestError("internal", untyped.message));
      return;
    }
    const known = raw as ServerFrame;
    switch (known.type) {
      case "ack":
        this.addMessages(known.message.roomId, [known.message], true);
        break;
      case "message":
        this.receiveMessage(known.message);
        break;
      case "typing":
        this.receiveTyping(known);
        break;
      case "room":
        this.receiveRoom(known.room);
        break;
      case "users":
        known.users.forEach((user) => this.applyUser(user));
        break;
      case "presence":
        if ("userId" in known) this.applyPresence(known);
        else known.users.forEach((member) => this.applyPresence(member));
        break;
      case "profile":
        this.applyUser(known.user);
        break;
      case "error":
        // The token expired under an open socket: renew with a fresh one (the outbox resends after).
        if (known.code === "unauthorized") this.connection.renew({ forceRefresh: true });
        break;
      default:
        break; // history, rooms, pong: only their requester reads them; unknown types are ignored
    }
    const settled = this.requests.settle(known);
    if (!settled && known.type === "error" && typeof known.requestId !== "string") {
      this.reportError(ChatRequestError.fromFrame(known));
    }
  }

  private receiveMessage(message: Message): void {
    const seenBefore = this.rooms.get(message.roomId)?.timeline.seenSeq ?? null;
    this.addMessages(message.roomId, [message], true);
    // A skipped seq means missed pushes (a push is best effort): fetch what lies between.
    if (seenBefore !== null && message.seq > seenBefore + 1) {
      this.catchUp(message.roomId).catch((error: unknown) => this.reportBackground(error));
    }
  }

  /** Adds stored messages to a room; returns the new ones. Own ones leave the outbox, whatever brought them. */
  private addMessages(roomId: string, messages: readonly Message[], live: boolean): ChatMessage[] {
    const entry = this.entry(roomId);
    const added = entry.timeline.add(messages, this.me?.id ?? null);
    if (added.length === 0) return added;
    for (const message of messages) {
      if (entry.summary) entry.summary = summaryWithMessage(entry.summary, message);
      if (message.senderId === this.me?.id) {
        this.outbox?.confirm(message.clientMsgId);
        this.read?.advance(roomId, message.seq); // what one writes, one has read up to
      } else {
        this.users.learnSender(message);
        this.stopTyping(entry, message.senderId);
      }
    }
    if (entry.timeline.seenSeq !== null) this.seen?.advance(roomId, entry.timeline.seenSeq);
    this.roomChanged(roomId);
    for (const message of added) this.events.emit({ type: "message", message, live });
    return added;
  }

  private receiveTyping(push: TypingPush): void {
    if (push.userId === this.me?.id) return;
    const entry = this.entry(push.roomId);
    if (!push.isTyping) {
      this.stopTyping(entry, push.userId);
      return;
    }
    const previous = entry.typing.get(push.userId);
    if (previous) clearTimeout(previous.timer);
    const until = this.now() + this.settings.typingExpiryMs;
    // Expires by itself: a `false` may never come (a closed tab, a lost push).
    const timer = setTimeout(() => this.stopTyping(entry, push.userId), this.settings.typingExpiryMs);
    entry.typing.set(push.userId, { user: { userId: push.userId, userName: push.userName, until }, timer });
    this.typingChanged(entry);
  }

  private stopTyping(entry: RoomEntry, userId: string): void {
    const typing = entry.typing.get(userId);
    if (!typing) return;
    clearTimeout(typing.timer);
    entry.typing.delete(userId);
    this.typingChanged(entry);
  }

  private typingChanged(entry: RoomEntry): void {
    this.roomChanged(entry.id);
    this.events.emit({ type: "typing", roomId: entry.id, users: [...entry.typing.values()].map((t) => t.user) });
  }

  private clearTyping(entry: RoomEntry): void {
    for (const userId of [...entry.typing.keys()]) this.stopTyping(entry, userId);
  }

  private receiveRoom(room: Room): void {
    const me = this.me;
    if (!me) return;
    if (!isMember(room, me.id)) {
      this.removeRoom(room.id);
      return;
    }
    const entry = this.entry(room.id);
    entry.summary = summaryFromRoom(room, entry.summary);
    this.roomChanged(room.id);
    this.events.emit({ type: "room", room: entry.summary });
  }

  private removeRoom(roomId: string): void {
    const entry = this.rooms.get(roomId);
    if (!entry) return;
    this.clearTyping(entry);
    this.rooms.delete(roomId);
    this.opened.delete(roomId);
    this.seen?.delete(roomId);
    this.read?.delete(roomId);
    this.store.invalidate();
    this.events.emit({ type: "roomLeft", roomId });
  }

  private summaryAfter(room: Room): RoomSummary {
    return this.rooms.get(room.id)?.summary ?? summaryFromRoom(room, null);
  }

  private applyUser(user: UserInfo): void {
    this.users.applyProfile(user);
    if (user.id === this.me?.id && user.name !== this.me.name) this.me = { ...this.me, name: user.name };
  }

  private applyPresence(presence: MemberPresence | PresencePush): void {
    const changed = this.users.applyPresence(presence);
    if (changed) this.events.emit({ type: "presence", user: changed });
  }

  // ---- loading messages ------------------------------------------------------------------------------------

  /** Whether messages after the last seq seen exist (the room was loaded before, here or before a reload). */
  private hasNews(entry: RoomEntry): boolean {
    const seen = entry.timeline.seenSeq;
    const lastSeq = Math.max(entry.summary?.lastSeq ?? 0, entry.timeline.newestSeq ?? 0);
    return seen !== null && seen < lastSeq;
  }

  /** `history afterSeq` from the last seq seen, page after page; one at a time per room. */
  private catchUp(roomId: string): Promise<void> {
    const running = this.catchUps.get(roomId);
    if (running) return running; // its loop also fetches whatever made this call
    const task = this.runCatchUp(roomId).finally(() => this.catchUps.delete(roomId));
    this.catchUps.set(roomId, task);
    return task;
  }

  private async runCatchUp(roomId: string): Promise<void> {
    // Goes on while the server says more follow, or while a push told of a seq beyond what is loaded.
    let hasMore = false;
    for (;;) {
      const entry = this.rooms.get(roomId);
      const from = entry?.timeline.seenSeq ?? null;
      if (!entry || from === null || (!hasMore && !this.hasNews(entry))) return;
      const lastSeq = Math.max(entry.summary?.lastSeq ?? 0, entry.timeline.newestSeq ?? 0);
      if (lastSeq - from > MAX_CATCH_UP_MESSAGES) {
        entry.timeline.reset();
        this.roomChanged(roomId);
        await this.loadLatest(roomId);
        return;
      }
      const page = await this.backgroundRequest({ action: "history", roomId, afterSeq: from, limit: LIMITS.historyMaxLimit });
      this.addMessages(roomId, page.messages, false);
      hasMore = page.hasMore;
      // No progress means nothing more to fetch (a lastSeq we were told that the server does not have).
      if ((this.rooms.get(roomId)?.timeline.seenSeq ?? from) <= from) return;
    }
  }

  /** The latest page, once at a time per room. */
  private loadLatest(roomId: string): Promise<void> {
    const running = this.latestLoads.get(roomId);
    if (running) return running;
    const task = this.backgroundRequest({ action: "history", roomId, limit: LIMITS.historyDefaultLimit })
      .then((page) => void this.addMessages(roomId, page.messages, false))
      .finally(() => this.latestLoads.delete(roomId));
    this.latestLoads.set(roomId, task);
    return task;
  }

  private setLoadingOlder(entry: RoomEntry, loading: boolean): void {
    entry.loadingOlder = loading;
    this.roomChanged(entry.id);
  }

  // ---- requests --------------------------------------------------------------------------------------------

  /** Sends a frame with a fresh requestId; resolves with its reply, rejects with a ChatRequestError. */
  private request<F extends RequestFrame>(frame: F, timeoutMs = this.settings.requestTimeoutMs): Promise<ReplyTo<F>> {
    const requestId = this.requests.nextId();
    const socketId = this.connection.send({ ...frame, requestId });
    if (socketId === null) {
      return Promise.reject(new ChatRequestError("offline", "Not connected", { action: frame.action }));
    }
    const expected = replyTypes[frame.action];
    return this.requests.track(requestId, socketId, frame.action, timeoutMs).then((reply) => {
      if (reply.type !== expected) throw new ChatRequestError("internal", `Unexpected ${reply.type} reply to ${frame.action}`);
      return reply as ReplyTo<F>;
    });
  }

  /** A request the user did not ask for: waits and tries again when the server says so. */
  private async backgroundRequest<F extends RequestFrame>(frame: F): Promise<ReplyTo<F>> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.request(frame);
      } catch (error) {
        const code = error instanceof ChatRequestError ? error.code : "internal";
        const waits = code === "rate_limited" || code === "unavailable" || code === "internal";
        if (!waits || attempt >= BACKGROUND_TRIES) throw error;
        const delay = (error as ChatRequestError).retryAfterMs ?? backoffDelay(attempt, this.random, 1000, 30_000);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private sendFromOutbox(entry: OutboxEntry): Promise<unknown> | null {
    if (!this.connection.isOpen) return null;
    const frame: Extract<ClientFrame, { action: "sendMessage" }> = {
      action: "sendMessage",
      roomId: entry.roomId,
      content: entry.content,
      clientMsgId: entry.clientMsgId,
      ...(entry.replyToId ? { replyToId: entry.replyToId } : {}),
    };
    return this.request(frame, this.settings.sendTimeoutMs);
  }

  /** Failures of work the app did not await: an offline socket is no news (the next open retries). */
  private reportBackground(error: unknown): void {
    if (error instanceof ChatRequestError && (error.code === "offline" || error.code === "timeout")) return;
    this.reportError(error instanceof ChatRequestError ? error : new ChatRequestError("internal", String(error)));
  }

  private reportError(error: ChatRequestError): void {
    this.events.emit({ type: "error", error });
  }

  // ---- state -----------------------------------------------------------------------------------------------

  private loadUser(me: Me): void {
    // Everything persisted is per user: another account on this device starts clean.
    for (const entry of this.rooms.values()) this.clearTyping(entry);
    this.rooms = new Map();
    this.users.clear();
    this.roomsLoaded = false;
    this.opened.clear();
    const prefix = `user/${me.id}/`;
    this.seen = new ForwardMarkers(this.storage, `${prefix}seen`);
    this.read = new ForwardMarkers(this.storage, `${prefix}read`);
    this.outbox = new Outbox({
      store: this.storage,
      key: `${prefix}outbox`,
      send: (entry) => this.sendFromOutbox(entry),
      onChange: (roomId) => this.roomChanged(roomId),
      now: this.now,
      maxAttempts: this.settings.maxSendAttempts,
      retryDelay: (attempts) => backoffDelay(attempts, this.random, this.settings.backoffBaseMs, this.settings.backoffCapMs),
    });
  }

  private started(): { me: Me; outbox: Outbox } {
    if (!this.me || !this.outbox) throw new Error("ChatClient: call start() first");
    return { me: this.me, outbox: this.outbox };
  }

  private entry(roomId: string): RoomEntry {
    let entry = this.rooms.get(roomId);
    if (!entry) {
      entry = newRoomEntry(roomId, this.seen?.get(roomId) ?? null);
      this.rooms.set(roomId, entry);
    }
    return entry;
  }

  private roomChanged(roomId: string): void {
    const entry = this.rooms.get(roomId);
    if (entry) entry.view = null;
    this.store.invalidate();
  }

  private buildSnapshot(): ChatSnapshot {
    const meId = this.me?.id ?? null;
    const rooms = [];
    for (const entry of this.rooms.values()) {
      const summary = entry.summary;
      if (!summary) continue; // not listed yet
      entry.view ??= roomView({ ...entry, summary }, this.outbox?.forRoom(entry.id) ?? [], this.read?.get(entry.id) ?? 0, meId);
      rooms.push(entry.view);
    }
    rooms.sort(byActivity);
    return { connection: this.connectionState, me: this.me, rooms, users: this.users.record(), roomsLoaded: this.roomsLoaded };
  }
}

function mergeSummary(known: RoomSummary, listed: RoomSummary): RoomSummary {
  // A push may have brought a newer message than the listing holds.
  return (known.lastMessage?.seq ?? 0) > (listed.lastMessage?.seq ?? 0)
    ? { ...listed, lastSeq: Math.max(listed.lastSeq, known.lastSeq), lastMessage: known.lastMessage }
    : listed;
}

/**
 * A v4 UUID for a clientMsgId: `crypto.randomUUID` where it exists (it needs a secure context in browsers),
 * else built from `crypto.getRandomValues` (React Native with a polyfill), else from Math.random.
 */
export function randomUuid(): string {
  const crypto = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === "function") crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function defaultSocket(url: string): WebSocketLike {
  const WebSocketClass = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!WebSocketClass) throw new Error("No WebSocket in this runtime: pass createSocket");
  return new WebSocketClass(url);
}
