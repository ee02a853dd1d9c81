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
}
/**
 * Add users to a group room the sender belongs to.
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
 * Store a message once per sender, room and `clientMsgId` (a retry gets the same `ack`); push `message` to the
 * room. Another member reusing a `clientMsgId` never touches this sender's message.
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
 * Create a group room; the creator is always a member.
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
 * Leave a room; the remaining members get the updated room.
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
}
/**
 * Reply to `createRoom`, `openDirect`, `addMembers` and `leaveRoom`; also pushed to the room's members (and to
 * the leaver's other connections) when the room is created or its members change.
 */
export interface RoomFrame {
  requestId?: string | null;
  type: "room";
  room: Room;
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
 * `history` has the whole message.
 */
export interface RoomSummary {
  id: string;
  name: string | null;
  isGroup: boolean;
  memberIds: string[];
  createdAt: string;
  memberCount: number;
  lastSeq: number;
  lastMessage: Message | null;
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
  "maxAvatarUrlChars": 1024
} as const;
