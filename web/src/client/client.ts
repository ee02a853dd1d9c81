/* The facade the app uses: wires the connection, requests, outbox and room timelines into one snapshot. */
import { Connection, backoffDelay } from "./connection";
import { ChatRequestError } from "./errors";
import { Outbox, type OutboxEntry } from "./outbox";
import type {
  ClientFrame, Message, MemberPresence, PresencePush, ReadFrame, RemovedPush, Room, RoomNews, RoomSummary, ServerFrame, UserInfo,
} from "./protocol";
import { LIMITS } from "./protocol";
import { ReadSender } from "./reads";
import { Requests, replyTypes, type RequestFrame, type ReplyTo } from "./requests";
import { byActivity, isMember, mergeSummary, newRoomEntry, roomView, summaryFromRoom, summaryWithMessage, type RoomEntry } from "./rooms";
import { loadChanges, syncRooms, whatToSync } from "./sync";
import { applyChanges, applyCounts, applyMessageFrame, applyReadMarks } from "./updates";
import { clientSettings, defaultSocket, randomUuid, retrying, type ClientSettings } from "./util";
import { ForwardMarkers, memoryStore, type KeyValueStore } from "./storage";
import { HistoryLoader, MAX_CATCH_UP_MESSAGES } from "./loading";
import { Events, SnapshotStore } from "./store";
import { TypingTracker } from "./typing";
import { toUserState, Users } from "./users";
import { NotificationState, subscriptionInfo, type NotificationSettings, type PushSubscriptionJson } from "./notifications";
import type { ChatEvent, ChatMessage, ChatSnapshot, ClientOptions, ConnectionState, Emoji, UserState } from "./types";

/** At most one `markRead` per room this often. */
const READ_INTERVAL_MS = 1000;
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
  private readonly settings: ClientSettings;

  private me: Me | null = null;
  private connectionState: ConnectionState = { status: "offline", reason: "not started" };
  private rooms = new Map<string, RoomEntry>();
  private readonly users = new Users(() => this.store.invalidate());
  private readonly notifications = new NotificationState(() => this.store.invalidate());
  private roomsLoaded = false;
  private outbox: Outbox | null = null;
  private seen: ForwardMarkers | null = null;
  private read: ForwardMarkers | null = null;
  private readonly loader = new HistoryLoader({
    entry: (roomId) => this.rooms.get(roomId),
    history: (frame) => this.backgroundRequest(frame),
    add: (roomId, messages) => void this.addMessages(roomId, messages, false),
    changed: (roomId) => this.roomChanged(roomId),
  });
  /** Rooms the app opened: their latest page is loaded whenever a connection allows it. */
  private readonly opened = new Set<string>();
  private readonly typing: TypingTracker;
  private readonly reads: ReadSender;
  /** Rooms recently gone, to name them when a `removed` push follows the room frame that dropped them. */
  private readonly departed = new Map<string, RoomSummary>();
  /** Bumped on every open: work for an older connection stops. */
  private syncGeneration = 0;
  private ownFrames = 0;

  constructor(options: ClientOptions) {
    this.storage = options.storage ?? memoryStore();
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.randomUUID = options.randomUUID ?? randomUuid;
    this.settings = clientSettings(options);
    this.typing = new TypingTracker({
      now: this.now,
      expiryMs: this.settings.typingExpiryMs,
      throttleMs: this.settings.typingThrottleMs,
      send: (roomId, isTyping) => this.sendOwn({ action: "typing", roomId, isTyping }),
      changed: (entry) => {
        this.roomChanged(entry.id);
        this.events.emit({ type: "typing", roomId: entry.id, users: [...entry.typing.values()].map((t) => t.user) });
      },
    });
    this.reads = new ReadSender({ send: (roomId, seq) => this.sendOwn({ action: "markRead", roomId, seq }), now: this.now, intervalMs: READ_INTERVAL_MS });
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
    for (const entry of this.rooms.values()) this.typing.clear(entry);
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
    this.typing.messageSent(roomId);
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
    this.typing.set(roomId, isTyping);
  }

  /** A frame nothing waits for, with a requestId of our own: an error about it (rate_limited) is not worth showing. */
  private sendOwn(frame: ClientFrame): boolean {
    return this.connection.send({ ...frame, requestId: `${frame.action}-${++this.ownFrames}` }) !== null;
  }

  /** Loads the room's latest page unless messages are loaded (a room with news is caught up first). */
  async openRoom(roomId: string): Promise<void> {
    this.opened.add(roomId);
    const entry = this.rooms.get(roomId);
    if (entry && this.loader.hasNews(entry)) await this.loader.catchUp(roomId);
    else await this.loader.running(roomId);
    if ((this.rooms.get(roomId)?.timeline.messages.length ?? 0) === 0) await this.loader.loadLatest(roomId);
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
    await this.loader.loadOlder(entry, oldest);
    return (entry.timeline.oldestSeq ?? 1) > 1;
  }

  /** The user saw the room up to `seq`: moves forward only, persisted on this device, and told the server (at
   * most once a second per room; the user's other devices follow). */
  markRead(roomId: string, seq: number): void {
    const entry = this.rooms.get(roomId);
    const lastSeq = Math.max(entry?.summary?.lastSeq ?? 0, entry?.timeline.newestSeq ?? 0);
    const target = Math.min(seq, lastSeq);
    if (this.read?.advance(roomId, target)) this.roomChanged(roomId);
    if (target > 0) this.reads.read(roomId, target);
  }

  /** A loaded message, or one fetched with fetchMessage. */
  getMessage(roomId: string, id: string): ChatMessage | undefined {
    const entry = this.rooms.get(roomId);
    return entry?.timeline.findById(id) ?? entry?.fetched.get(id);
  }

  /** One message by id as it now is (a reply's parent beyond the loaded pages). */
  async fetchMessage(roomId: string, messageId: string): Promise<ChatMessage | undefined> {
    await this.request({ action: "getMessage", roomId, messageId }); // applied by handleFrame
    return this.getMessage(roomId, messageId);
  }

  /** Edits or deletes a message; the reply (and the others' pushes) bring its new version. */
  async editMessage(roomId: string, messageId: string, content: string): Promise<void> {
    await this.request({ action: "editMessage", roomId, messageId, content });
  }

  async deleteMessage(roomId: string, messageId: string): Promise<void> {
    await this.request({ action: "deleteMessage", roomId, messageId });
  }

  /** Adds the user's reaction, or takes it back when they have it. */
  async toggleReaction(roomId: string, messageId: string, emoji: Emoji): Promise<void> {
    const mine = this.getMessage(roomId, messageId)?.myReactions.includes(emoji) ?? false;
    await this.request({ action: mine ? "removeReaction" : "addReaction", roomId, messageId, emoji });
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

  async removeMember(roomId: string, userId: string): Promise<RoomSummary> {
    return this.summaryAfter((await this.request({ action: "removeMember", roomId, userId })).room);
  }

  async renameRoom(roomId: string, name: string): Promise<RoomSummary> {
    return this.summaryAfter((await this.request({ action: "renameRoom", roomId, name })).room);
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

  // ---- notifications ---------------------------------------------------------------------------------------

  /** The settings and the server's push key (asked on every open; `settings` pushes keep them current). */
  async getSettings(): Promise<NotificationSettings> {
    await this.request({ action: "getSettings" }); // applied by handleFrame
    return this.notifications.settings as NotificationSettings;
  }

  async setShowPreviews(showPreviews: boolean): Promise<void> {
    await this.request({ action: "updateSettings", showPreviews });
  }

  async muteRoom(roomId: string, muted: boolean): Promise<void> {
    await this.request({ action: "muteRoom", roomId, muted });
  }

  /** This device's push subscription (`PushSubscription.toJSON()`), or null to stop: registered now and again on
   * every open (idempotent; an endpoint may rotate), unregistered when null replaces one. */
  async setPushSubscription(json: PushSubscriptionJson | null): Promise<void> {
    const before = this.notifications.device;
    const next = json ? subscriptionInfo(json) : null;
    if (json && !next) throw new ChatRequestError("bad_request", "The push subscription has no endpoint or keys");
    this.notifications.device = next;
    if (before && before.endpoint !== next?.endpoint) await this.request({ action: "unregisterPush", endpoint: before.endpoint });
    if (next) await this.request({ action: "registerPush", subscription: next });
  }

  /** The endpoint of the device registered on every open, if any. */
  pushEndpoint(): string | null {
    return this.notifications.device?.endpoint ?? null;
  }

  /** Stops notifying a device this client was not told of (subscribed before a reload). */
  async unregisterPush(endpoint: string): Promise<void> {
    await this.request({ action: "unregisterPush", endpoint });
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
    this.reads.resume();
    void this.backgroundRequest({ action: "getSettings" }).catch((error: unknown) => this.reportBackground(error));
    const device = this.notifications.device;
    if (device) void this.backgroundRequest({ action: "registerPush", subscription: device }).catch((error: unknown) => this.reportBackground(error));
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
    const listed = new Set<string>();
    for (const summary of rooms) {
      listed.add(summary.id);
      const entry = this.entry(summary.id);
      entry.summary = entry.summary ? mergeSummary(entry.summary, summary) : summary;
      this.applyCounts(entry, summary);
      this.reads.listed(summary.id, summary.readSeq);
      // Read here while the server could not be told (offline, or before a reload): tell it now.
      const local = this.read?.get(summary.id) ?? 0;
      if (local > summary.readSeq) this.reads.read(summary.id, local);
      // Nothing loaded: whatever loads next is current, no change before now is needed.
      if (entry.timeline.messages.length === 0) entry.version = summary.lastVersion;
      if (summary.lastMessage) this.users.learnSender(summary.lastMessage);
      entry.view = null;
    }
    // Rooms left while disconnected (only those known before the listing began: a room pushed since may be newer).
    for (const roomId of known) if (!listed.has(roomId) && this.rooms.get(roomId)?.summary) this.removeRoom(roomId);
    this.reads.resume();
    this.roomsLoaded = true;
    this.store.invalidate();
  }

  /** One `sync` (paged) for the rooms loaded before; then the opened rooms still empty load their latest page. */
  private async catchUpAll(generation: number): Promise<void> {
    const { seqs, versions, tooFar } = whatToSync(this.rooms.values(), MAX_CATCH_UP_MESSAGES);
    for (const entry of tooFar) {
      entry.timeline.reset(); // too much missed: the room starts again from its latest page when opened
      this.roomChanged(entry.id);
    }
    const current = () => generation === this.syncGeneration;
    await syncRooms(seqs, versions, {
      sync: (frame) => this.backgroundRequest(frame),
      current,
      applyNews: (news) => this.applyNews(news),
      left: (roomId) => this.removeRoom(roomId),
      // One room failing (left meanwhile: forbidden) must not hold the others back.
      moreMessages: (roomId) => this.loader.catchUp(roomId).catch((error: unknown) => this.reportBackground(error)),
      moreChanges: (roomId, version) => this.loadChanges(roomId, version).catch((error: unknown) => this.reportBackground(error)),
    });
    for (const roomId of this.opened) {
      if (!current()) return;
      if (this.rooms.get(roomId)?.timeline.messages.length === 0) await this.openOrCatchUp(roomId).catch((error: unknown) => this.reportBackground(error));
    }
  }

  private applyNews(news: RoomNews): void {
    const entry = this.entry(news.roomId);
    this.applyCounts(entry, news);
    this.addMessages(news.roomId, news.messages, false);
    applyChanges(entry, news.changes, news.version);
    this.roomChanged(news.roomId);
  }

  private loadChanges(roomId: string, version: number): Promise<void> {
    return loadChanges(roomId, version, (frame) => this.backgroundRequest(frame), (page) => {
      const entry = this.rooms.get(roomId);
      if (entry && applyChanges(entry, page.messages, page.version)) this.roomChanged(roomId);
    });
  }

  /** The server's marker and count; the local marker moves up to the server's. */
  private applyCounts(entry: RoomEntry, counts: Parameters<typeof applyCounts>[1]): void {
    applyCounts(entry, counts);
    this.read?.advance(entry.id, counts.readSeq);
    this.reads.known(entry.id, counts.readSeq);
  }

  private async openOrCatchUp(roomId: string): Promise<void> {
    if (this.opened.has(roomId)) await this.openRoom(roomId);
    else await this.loader.catchUp(roomId);
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
        this.reads.read(known.message.roomId, known.message.seq); // what one writes, one has read up to
        break;
      case "message":
        this.receiveMessage(known.message);
        break;
      case "typing":
        if (known.userId !== this.me?.id) this.typing.receive(this.entry(known.roomId), known);
        break;
      case "room":
        this.receiveRoom(known.room);
        break;
      case "users":
        known.users.forEach((user) => this.applyUser(user));
        break;
      case "presence":
        if ("userId" in known) this.applyPresence(known);
        else {
          known.users.forEach((member) => this.applyPresence(member));
          const entry = this.rooms.get(known.roomId);
          if (entry && applyReadMarks(entry, known.users, this.me?.id ?? null)) this.roomChanged(entry.id);
        }
        break;
      case "profile":
        this.applyUser(known.user);
        break;
      case "read":
        this.receiveRead(known);
        break;
      case "messageUpdated":
      case "messageFound":
      case "reaction": {
        const entry = this.rooms.get(known.type === "reaction" ? known.roomId : known.message.roomId);
        const before = entry?.version ?? null;
        if (entry && applyMessageFrame(entry, known, this.me?.id ?? null)) this.roomChanged(entry.id);
        // The change feed has no holes: a version past the next one means changes were missed (a lost push).
        const version = known.type === "reaction" ? known.version : known.message.version;
        if (known.type !== "messageFound" && before !== null && version > before + 1 && entry?.timeline.messages.length) {
          this.loadChanges(entry.id, before).catch((error: unknown) => this.reportBackground(error));
        }
        break;
      }
      case "removed":
        this.receiveRemoved(known);
        break;
      case "settings":
        this.notifications.applySettings(known);
        break;
      case "roomMuted": {
        const entry = this.rooms.get(known.roomId);
        if (entry?.summary && entry.summary.muted !== known.muted) {
          entry.summary = { ...entry.summary, muted: known.muted };
          this.roomChanged(entry.id);
        }
        break;
      }
      case "error":
        // The token expired under an open socket: renew with a fresh one (the outbox resends after).
        if (known.code === "unauthorized") this.connection.renew({ forceRefresh: true });
        break;
      default:
        break; // history, rooms, changes, sync, pong: only their requester reads them; unknown types are ignored
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
      this.loader.catchUp(message.roomId).catch((error: unknown) => this.reportBackground(error));
    }
  }

  /** Adds stored messages to a room; returns the new ones. Own ones leave the outbox, whatever brought them. */
  private addMessages(roomId: string, messages: readonly Message[], live: boolean): ChatMessage[] {
    const entry = this.entry(roomId);
    const revision = entry.timeline.revision;
    // The first messages loaded are current with at least the version known now (a later listing may know more).
    if (messages.length > 0) entry.version ??= entry.summary?.lastVersion ?? 0;
    const added = entry.timeline.add(messages, this.me?.id ?? null);
    if (added.length === 0) {
      if (entry.timeline.revision !== revision) this.roomChanged(roomId); // newer versions of loaded ones
      return added;
    }
    for (const message of messages) {
      if (entry.summary) entry.summary = summaryWithMessage(entry.summary, message);
      if (message.senderId === this.me?.id) {
        this.outbox?.confirm(message.clientMsgId);
        this.read?.advance(roomId, message.seq); // what one writes, one has read up to
      } else {
        this.users.learnSender(message);
        this.typing.stop(entry, message.senderId);
      }
    }
    if (entry.timeline.seenSeq !== null) this.seen?.advance(roomId, entry.timeline.seenSeq);
    this.roomChanged(roomId);
    for (const message of added) this.events.emit({ type: "message", message, live });
    return added;
  }

  /** The user's other device moved the marker; or, from another member, a read receipt. */
  private receiveRead(frame: ReadFrame): void {
    const entry = this.rooms.get(frame.roomId);
    if (!entry) return;
    if (frame.userId === this.me?.id) {
      this.read?.advance(frame.roomId, frame.seq);
      this.reads.known(frame.roomId, frame.seq);
    } else if (frame.seq > (entry.readBy.get(frame.userId) ?? -1)) {
      entry.readBy.set(frame.userId, frame.seq);
    }
    this.roomChanged(frame.roomId);
  }

  private receiveRemoved(push: RemovedPush): void {
    const room = this.rooms.get(push.roomId)?.summary ?? this.departed.get(push.roomId) ?? null;
    this.removeRoom(push.roomId);
    this.events.emit({ type: "removed", roomId: push.roomId, byUserId: push.byUserId, room });
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
    this.typing.clear(entry);
    if (entry.summary) this.departed.set(roomId, entry.summary);
    if (this.departed.size > 20) this.departed.delete(this.departed.keys().next().value ?? roomId);
    this.reads.forget(roomId);
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
  private backgroundRequest<F extends RequestFrame>(frame: F): Promise<ReplyTo<F>> {
    return retrying(() => this.request(frame), this.random, BACKGROUND_TRIES);
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
    for (const entry of this.rooms.values()) this.typing.clear(entry);
    this.rooms = new Map();
    this.users.clear();
    this.roomsLoaded = false;
    this.opened.clear();
    this.notifications.clear();
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
    return { connection: this.connectionState, me: this.me, rooms, users: this.users.record(), roomsLoaded: this.roomsLoaded,
      notifications: this.notifications.settings };
  }
}
