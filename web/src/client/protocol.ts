/* Generated from the server's pydantic models (layers/shared/python/chat/protocol.py) by
 * `make protocol`: do not edit. A test fails when this file is stale. */

/**
 * Any frame a client sends; `action` tells them apart.
 */
export type ClientFrame =
  | SendMessage
  | Typing
  | History
  | CreateRoom
  | OpenDirect
  | AddMembers
  | LeaveRoom
  | ListRooms
  | ListUsers
  | Presence
  | UpdateProfile
  | MarkRead
  | EditMessage
  | DeleteMessage
  | AddReaction
  | RemoveReaction
  | GetMessage
  | Changes
  | Sync
  | RemoveMember
  | RenameRoom
  | RegisterPush
  | UnregisterPush
  | MuteRoom
  | UpdateSettings
  | GetSettings
  | Ping;
/**
 * Why a frame changed nothing (see the error codes of the protocol reference).
 */
export type ErrorCode =
  | "bad_request"
  | "too_large"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "rejected"
  | "unavailable"
  | "internal";
/**
 * Any frame the server sends; `type` tells them apart.
 */
export type ServerFrame =
  | Ack
  | MessagePush
  | TypingPush
  | HistoryPage
  | RoomFrame
  | RoomsFrame
  | UsersFrame
  | RoomPresence
  | PresencePush
  | ProfileFrame
  | ReadFrame
  | MessageUpdated
  | ReactionFrame
  | MessageFrame
  | ChangesPage
  | SyncPage
  | RemovedPush
  | SettingsFrame
  | PushRegistered
  | RoomMuted
  | Pong
  | ErrorFrame;
/**
 * Reply to `sendMessage`: the message as stored (the original one when the send was a retry).
 */
export interface Ack {
  requestId?: string | null;
  type: "ack";
  clientMsgId: string;
  message: Message;
}
/**
 * A stored message. `seq` is per room, starts at 1, gap-free, in commit order.
 *
 * `version` is 0 until the message is first edited, deleted or reacted to; then it is the room's change number of
 * its last change (see `changes`), so a higher `version` is always the newer state. A deleted message is a
 * tombstone: `deletedAt` set, `content` empty, no reactions. `myReactions` is the caller's own reactions in
 * replies; in pushes it is null (keep what you have: `reaction` pushes say who reacted).
 */
export interface Message {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  senderName: string;
  content: string;
  createdAt: string;
  clientMsgId: string;
  replyToId: string | null;
  replyTo: ReplyPreview | null;
  version: number;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: ReactionCount[];
  myReactions: ("👍" | "❤️" | "😂" | "😮" | "😢" | "🙏" | "🎉" | "🔥" | "👀" | "✅")[] | null;
}
/**
 * The message a reply answers, in short: its content cut to 100 characters (then "…"); empty and `deleted`
 * when the parent was deleted.
 */
export interface ReplyPreview {
  id: string;
  seq: number;
  senderId: string;
  senderName: string;
  content: string;
  deleted: boolean;
}
/**
 * How many members reacted to a message with `emoji`.
 */
export interface ReactionCount {
  emoji: "👍" | "❤️" | "😂" | "😮" | "😢" | "🙏" | "🎉" | "🔥" | "👀" | "✅";
  count: number;
}
/**
 * An admin of a group room adds users to it (in a group without admins, made before rooms had them, any
 * member may).
 */
export interface AddMembers {
  requestId?: string | null;
  action: "addMembers";
  roomId: string;
  /**
   * @minItems 1
   * @maxItems 100
   */
  memberIds: [string, ...string[]];
}
/**
 * React to a message with one of the fixed set of emoji; reacting twice with the same one changes nothing.
 */
export interface AddReaction {
  requestId?: string | null;
  action: "addReaction";
  roomId: string;
  messageId: string;
  emoji: "👍" | "❤️" | "😂" | "😮" | "😢" | "🙏" | "🎉" | "🔥" | "👀" | "✅";
}
/**
 * The room's change feed: its messages edited, deleted or reacted to after `afterVersion`, each once, as it
 * now is, in the order of their last change. Pass the reply's `version` back as `afterVersion` for the next page;
 * keep the highest `version` seen per room (`listRooms` gives each room's `lastVersion`).
 */
export interface Changes {
  requestId?: string | null;
  action: "changes";
  roomId: string;
  afterVersion?: number;
  limit?: number;
}
/**
 * Reply to `changes`: messages changed after `afterVersion`, in the order of their last change; `version` is
 * where this page ends (pass it as the next `afterVersion`); `hasMore` when there are more.
 */
export interface ChangesPage {
  requestId?: string | null;
  type: "changes";
  roomId: string;
  messages: Message[];
  version: number;
  hasMore: boolean;
}
/**
 * Store a message once per sender, room and `clientMsgId` (a retry gets the same `ack`); push `message` to the
 * room. Another member reusing a `clientMsgId` never touches this sender's message. `replyToId` names a message
 * of the same room (else `bad_request`); the reply then carries a preview of it (`replyTo`).
 */
export interface SendMessage {
  requestId?: string | null;
  action: "sendMessage";
  roomId: string;
  content: string;
  clientMsgId: string;
  replyToId?: string | null;
}
/**
 * Tell the other members online that the sender is (or stopped) typing; never stored. In a room of more than
 * 100 members, one typing frame per 3 seconds is passed on, whoever sends it: the others are dropped.
 */
export interface Typing {
  requestId?: string | null;
  action: "typing";
  roomId: string;
  isTyping: boolean;
}
/**
 * Page through a room's messages, ascending `seq`: before `beforeSeq`, after `afterSeq`, or the latest.
 */
export interface History {
  requestId?: string | null;
  action: "history";
  roomId: string;
  beforeSeq?: number | null;
  afterSeq?: number | null;
  limit?: number;
}
/**
 * Create a group room; the creator is always a member, and its admin.
 */
export interface CreateRoom {
  requestId?: string | null;
  action: "createRoom";
  name: string;
  /**
   * @maxItems 100
   */
  memberIds?: string[];
}
/**
 * Open (or reopen) the one direct room of the sender and `userId`.
 */
export interface OpenDirect {
  requestId?: string | null;
  action: "openDirect";
  userId: string;
}
/**
 * Leave a group room; the remaining members get the updated room. When its last admin leaves, the remaining
 * member first by id becomes admin.
 */
export interface LeaveRoom {
  requestId?: string | null;
  action: "leaveRoom";
  roomId: string;
}
/**
 * The sender's rooms, most recently active first, each with a preview of its last message; paged.
 */
export interface ListRooms {
  requestId?: string | null;
  cursor?: string | null;
  limit?: number;
  action: "listRooms";
}
/**
 * Users whose name starts with `query` (case-insensitive), or all users, by name, with presence; paged.
 */
export interface ListUsers {
  requestId?: string | null;
  cursor?: string | null;
  limit?: number;
  action: "listUsers";
  query?: string | null;
}
/**
 * A room's members by id, who of them is online and when the others were last seen; paged (up to 100).
 */
export interface Presence {
  requestId?: string | null;
  cursor?: string | null;
  limit?: number;
  action: "presence";
  roomId: string;
}
/**
 * Change the sender's display name and/or avatar; contacts are told. Give at least one of them.
 */
export interface UpdateProfile {
  requestId?: string | null;
  action: "updateProfile";
  name?: string | null;
  avatarUrl?: string | null;
}
/**
 * Move the sender's read marker of a room forward to `seq` (never back; past the last message it stops at the
 * last message). When it moves, the sender's other connections are told (`read`), and so are the members of a
 * room of at most 100 members (a read receipt); `listRooms` and `sync` give the marker and the unread count.
 * Send it for what the user has seen, the user's own messages included (after a send's `ack`).
 */
export interface MarkRead {
  requestId?: string | null;
  action: "markRead";
  roomId: string;
  seq: number;
}
/**
 * Replace the content of the sender's own message (moderated again); it keeps its `seq` and gets a new
 * `version` and `editedAt`. Sending the same content again changes nothing (a retry gets the same reply).
 */
export interface EditMessage {
  requestId?: string | null;
  action: "editMessage";
  roomId: string;
  messageId: string;
  content: string;
}
/**
 * Delete a message: the sender's own, or any message for an admin of the room. It stays as a tombstone (its
 * `seq`, `deletedAt`, no content, no reactions); deleting it again changes nothing.
 */
export interface DeleteMessage {
  requestId?: string | null;
  action: "deleteMessage";
  roomId: string;
  messageId: string;
}
/**
 * Take the sender's reaction back; taking back one that is not there changes nothing.
 */
export interface RemoveReaction {
  requestId?: string | null;
  action: "removeReaction";
  roomId: string;
  messageId: string;
  emoji: "👍" | "❤️" | "😂" | "😮" | "😢" | "🙏" | "🎉" | "🔥" | "👀" | "✅";
}
/**
 * One message of a room by id, as it now is (for a reply whose parent is not loaded).
 */
export interface GetMessage {
  requestId?: string | null;
  action: "getMessage";
  roomId: string;
  messageId: string;
}
/**
 * After a reconnect, in one frame instead of a `history` per room: for each room in `rooms` (room id ->
 * the last seq the client has) and `versions` (room id -> the last version it has), whether the room has news,
 * with the first page of its new messages and of its changes. Rooms without news are left out; rooms the sender
 * is no longer a member of are listed in `left`. Pages hold at most 10 rooms with news: pass `nextCursor` back
 * (with the same `rooms` and `versions`) for the next.
 */
export interface Sync {
  requestId?: string | null;
  action: "sync";
  rooms: {
    /**
     * This interface was referenced by `undefined`'s JSON-Schema definition
     * via the `patternProperty` "^[^\s\x00-\x1f\x7f]+$".
     */
    [k: string]: number;
  };
  versions?: {
    /**
     * This interface was referenced by `undefined`'s JSON-Schema definition
     * via the `patternProperty` "^[^\s\x00-\x1f\x7f]+$".
     */
    [k: string]: number;
  };
  cursor?: string | null;
}
/**
 * An admin of a group room takes a member out: they lose access at once and are told (`removed`).
 */
export interface RemoveMember {
  requestId?: string | null;
  action: "removeMember";
  roomId: string;
  userId: string;
}
/**
 * An admin of a group room renames it; the members get the updated room.
 */
export interface RenameRoom {
  requestId?: string | null;
  action: "renameRoom";
  roomId: string;
  name: string;
}
/**
 * Register this device for notifications while the user has no live connection (a Web Push subscription
 * made with the `pushPublicKey` of `settings`); registering the same endpoint again replaces its keys. A user
 * has at most 10 devices: one more replaces the oldest.
 */
export interface RegisterPush {
  requestId?: string | null;
  action: "registerPush";
  subscription: PushSubscriptionInfo;
}
/**
 * Where to reach one device of the user's when it has no connection: a Web Push endpoint (https) and keys.
 */
export interface PushSubscriptionInfo {
  endpoint: string;
  keys: PushKeys;
}
/**
 * A Web Push subscription's keys, as the browser's `PushSubscription.toJSON()` gives them (base64url).
 */
export interface PushKeys {
  p256dh: string;
  auth: string;
}
/**
 * Stop notifying the device with this endpoint (unknown endpoints change nothing).
 */
export interface UnregisterPush {
  requestId?: string | null;
  action: "unregisterPush";
  endpoint: string;
}
/**
 * Mute (or unmute) a room's notifications for the sender, on every device; the sender's other connections
 * are told (`roomMuted`), and `listRooms` gives `muted`.
 */
export interface MuteRoom {
  requestId?: string | null;
  action: "muteRoom";
  roomId: string;
  muted: boolean;
}
/**
 * Change the sender's notification settings, on every device (the other connections get `settings`):
 * `showPreviews` false sends notifications without the message's text.
 */
export interface UpdateSettings {
  requestId?: string | null;
  action: "updateSettings";
  showPreviews: boolean;
}
/**
 * The sender's notification settings and the server's Web Push public key.
 */
export interface GetSettings {
  requestId?: string | null;
  action: "getSettings";
}
/**
 * Keep the connection from idling out (API Gateway closes it after 10 minutes idle).
 */
export interface Ping {
  requestId?: string | null;
  action: "ping";
}
/**
 * Reply to a frame that changed nothing: `code` says why, `message` says it for people.
 */
export interface ErrorFrame {
  requestId?: string | null;
  type: "error";
  code: ErrorCode;
  message: string;
  action?: string | null;
  clientMsgId?: string | null;
  retryAfterMs?: number | null;
}
/**
 * Reply to `history`: messages in ascending `seq`; `hasMore` when there are more in that direction (a page
 * also stops short of `limit` to stay under 100 KB).
 */
export interface HistoryPage {
  requestId?: string | null;
  type: "history";
  roomId: string;
  messages: Message[];
  hasMore: boolean;
}
/**
 * A room member's presence (online, or when last seen), with the display name and avatar, so that a client
 * can name every member of its rooms (a direct room has no name of its own) from this one reply.
 */
export interface MemberPresence {
  userId: string;
  online: boolean;
  lastSeen: string | null;
  name: string;
  avatarUrl: string | null;
  readSeq: number;
}
/**
 * Reply to `getMessage`: the message as it now is.
 */
export interface MessageFrame {
  requestId?: string | null;
  type: "messageFound";
  message: Message;
}
/**
 * Pushed to every connection of the room's members (the sender's other connections too) for a new message.
 */
export interface MessagePush {
  requestId?: string | null;
  type: "message";
  message: Message;
}
/**
 * Reply to `editMessage` and `deleteMessage` with the message as it now is; pushed to the room's members.
 */
export interface MessageUpdated {
  requestId?: string | null;
  type: "messageUpdated";
  message: Message;
}
/**
 * Reply to `ping`.
 */
export interface Pong {
  requestId?: string | null;
  type: "pong";
}
/**
 * Pushed to the members of a user's rooms of at most 100 members when the user goes on- or offline; in bigger
 * rooms, ask with `presence`.
 */
export interface PresencePush {
  requestId?: string | null;
  type: "presence";
  userId: string;
  online: boolean;
  lastSeen: string | null;
}
/**
 * Reply to `updateProfile` with the sender's profile; also pushed to the members of the sender's rooms.
 */
export interface ProfileFrame {
  requestId?: string | null;
  type: "profile";
  user: UserInfo;
}
/**
 * A user as others see them: the display name they chose, an optional avatar URL, and presence.
 */
export interface UserInfo {
  id: string;
  name: string;
  online: boolean;
  lastSeen: string | null;
  avatarUrl: string | null;
}
/**
 * Reply to `registerPush` and `unregisterPush`: whether the endpoint is now registered.
 */
export interface PushRegistered {
  requestId?: string | null;
  type: "pushRegistered";
  endpoint: string;
  registered: boolean;
}
/**
 * Reply to `addReaction` and `removeReaction`, and pushed to the room's members: `userId` added (or took back)
 * `emoji`; `reactions` and `version` are the message's now.
 */
export interface ReactionFrame {
  requestId?: string | null;
  type: "reaction";
  roomId: string;
  messageId: string;
  seq: number;
  userId: string;
  emoji: "👍" | "❤️" | "😂" | "😮" | "😢" | "🙏" | "🎉" | "🔥" | "👀" | "✅";
  added: boolean;
  reactions: ReactionCount[];
  version: number;
}
/**
 * Reply to `markRead` with the marker as it now is; pushed to the user's other connections (they move their
 * marker too) and, in rooms of at most 100 members, to the other members as a read receipt.
 */
export interface ReadFrame {
  requestId?: string | null;
  type: "read";
  roomId: string;
  userId: string;
  seq: number;
}
/**
 * Pushed to every connection of a member an admin removed from a room: the room is no longer theirs.
 */
export interface RemovedPush {
  requestId?: string | null;
  type: "removed";
  roomId: string;
  byUserId: string;
}
/**
 * A room. `memberIds` lists at most 100 members (the first by id; all of a direct or small room):
 * `memberCount` is the true number, and `presence` pages through every member. `name` is null for direct rooms.
 */
export interface Room {
  id: string;
  name: string | null;
  isGroup: boolean;
  memberIds: string[];
  createdAt: string;
  memberCount: number;
  adminIds: string[];
}
/**
 * Reply to `createRoom`, `openDirect`, `addMembers`, `removeMember`, `renameRoom` and `leaveRoom`; also pushed
 * to the room's members (and to the leaver's other connections) when the room is created, renamed or its members
 * change.
 */
export interface RoomFrame {
  requestId?: string | null;
  type: "room";
  room: Room;
}
/**
 * Reply to `muteRoom`; pushed to the user's other connections.
 */
export interface RoomMuted {
  requestId?: string | null;
  type: "roomMuted";
  roomId: string;
  muted: boolean;
}
/**
 * One room's news in `sync`: its counters and read marker, the first page of messages after the client's
 * seq (`hasMore`: page on with `history` `afterSeq`) and of changes after its version (`changesHaveMore`: page
 * on with `changes` from `version`).
 */
export interface RoomNews {
  roomId: string;
  lastSeq: number;
  lastVersion: number;
  readSeq: number;
  unreadCount: number;
  messages: Message[];
  hasMore: boolean;
  changes: Message[];
  version: number;
  changesHaveMore: boolean;
}
/**
 * Reply to `presence`: one page of the room's members by id; `nextCursor` is absent on the last page.
 */
export interface RoomPresence {
  requestId?: string | null;
  type: "presence";
  roomId: string;
  users: MemberPresence[];
  nextCursor?: string | null;
}
/**
 * A room in `listRooms`: `lastMessage` is a preview, its `content` cut to 200 characters (then "…");
 * `history` has the whole message. `readSeq` is the caller's read marker, `unreadCount` the messages after it
 * (the caller's own included: a client marks read what it shows, its own sends too); `lastVersion` the room's
 * latest change number (see `changes`).
 */
export interface RoomSummary {
  id: string;
  name: string | null;
  isGroup: boolean;
  memberIds: string[];
  createdAt: string;
  memberCount: number;
  adminIds: string[];
  lastSeq: number;
  lastMessage: Message | null;
  readSeq: number;
  unreadCount: number;
  lastVersion: number;
  muted: boolean;
}
/**
 * Reply to `listRooms`: one page of rooms; `nextCursor` is absent on the last page.
 */
export interface RoomsFrame {
  requestId?: string | null;
  type: "rooms";
  rooms: RoomSummary[];
  nextCursor?: string | null;
}
/**
 * Pushed to the other members of the room when a member starts or stops typing (in a room of more than 100
 * members, at most one every 3 seconds: a client shows it for a few seconds unless it is renewed).
 */
export interface TypingPush {
  requestId?: string | null;
  type: "typing";
  roomId: string;
  userId: string;
  userName: string;
  isTyping: boolean;
}
/**
 * Reply to `listUsers`: one page of users by name; `nextCursor` is absent on the last page.
 */
export interface UsersFrame {
  requestId?: string | null;
  type: "users";
  users: UserInfo[];
  nextCursor?: string | null;
}
/**
 * Reply to `sync`: the rooms with news (at most 10), those the sender has left or was removed from, and
 * `nextCursor` when more rooms remain to look at.
 */
export interface SyncPage {
  requestId?: string | null;
  type: "sync";
  rooms: RoomNews[];
  left: string[];
  nextCursor?: string | null;
}
/**
 * Reply to `getSettings` and `updateSettings`; pushed to the user's other connections when they change.
 * `pushPublicKey` is the server's VAPID public key (base64url) for `PushManager.subscribe`, null when this
 * deployment sends no notifications.
 */
export interface SettingsFrame {
  requestId?: string | null;
  type: "settings";
  showPreviews: boolean;
  pushPublicKey: string | null;
}

/** The limits a client checks before it sends, and the page sizes. */
export const LIMITS = {
  "protocolVersion": 1,
  "maxFrameBytes": 32768,
  "maxMessageBytes": 131072,
  "maxContentChars": 4000,
  "maxRequestIdChars": 64,
  "maxMembersPerFrame": 100,
  "historyDefaultLimit": 50,
  "historyMaxLimit": 100,
  "pageDefaultLimit": 50,
  "pageMaxLimit": 100,
  "roomMemberIdsShown": 100,
  "lastMessagePreviewChars": 200,
  "maxNameChars": 64,
  "maxAvatarUrlChars": 1024,
  "replyPreviewChars": 100,
  "reactionEmojis": [
    "👍",
    "❤️",
    "😂",
    "😮",
    "😢",
    "🙏",
    "🎉",
    "🔥",
    "👀",
    "✅"
  ],
  "syncMaxRooms": 100,
  "syncRoomsPerPage": 10,
  "syncMessagesPerRoom": 20,
  "changesDefaultLimit": 50,
  "readReceiptMaxMembers": 100,
  "maxPushSubscriptions": 10
} as const;
