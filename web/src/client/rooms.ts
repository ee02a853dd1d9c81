/* What the client keeps per room, and how it becomes the RoomState of a snapshot (unread count, order). */
import type { Message, Room, RoomSummary } from "./protocol";
import { Timeline } from "./timeline";
import type { ChatMessage, RoomState, TypingUser } from "./types";

export interface RoomEntry {
  id: string;
  /** null until the room itself is known (a message or history page can come before its listing). */
  summary: RoomSummary | null;
  timeline: Timeline;
  typing: Map<string, { user: TypingUser; timer: ReturnType<typeof setTimeout> }>;
  loadingOlder: boolean;
  /** The server's read marker and unread count, and the lastSeq they were counted at (listing, sync). */
  counted: { readSeq: number; unreadCount: number; lastSeq: number } | null;
  /** The room's change number the loaded messages are current with (null: none loaded since the listing). */
  version: number | null;
  /** Other members' read markers, from read receipts. */
  readBy: Map<string, number>;
  /** Messages fetched one by one (`getMessage`: a reply's parent beyond the loaded pages). */
  fetched: Map<string, ChatMessage>;
  /** The RoomState of the last snapshot, kept until the room changes (so React skips unchanged rooms). */
  view: RoomState | null;
}

export function newRoomEntry(id: string, seenSeq: number | null): RoomEntry {
  return {
    id, summary: null, timeline: new Timeline(seenSeq), typing: new Map(), loadingOlder: false, view: null,
    counted: null, version: null, readBy: new Map(), fetched: new Map(),
  };
}

/** A room frame (no lastSeq, no preview) merged into what is known of the room. */
export function summaryFromRoom(room: Room, known: RoomSummary | null): RoomSummary {
  return {
    id: room.id,
    name: room.name,
    isGroup: room.isGroup,
    memberIds: room.memberIds,
    createdAt: room.createdAt,
    memberCount: room.memberCount,
    adminIds: room.adminIds ?? [],
    lastSeq: known?.lastSeq ?? 0,
    lastMessage: known?.lastMessage ?? null,
    readSeq: known?.readSeq ?? 0,
    unreadCount: known?.unreadCount ?? 0,
    lastVersion: known?.lastVersion ?? 0,
    muted: known?.muted ?? false,
  };
}

/** The summary after a newer state of its last message (edited, deleted). */
export function summaryWithUpdate(summary: RoomSummary, message: Message): RoomSummary {
  const last = summary.lastMessage;
  if (!last || last.id !== message.id || (message.version ?? 0) <= (last.version ?? 0)) return summary;
  return { ...summary, lastMessage: { ...message, myReactions: message.myReactions ?? last.myReactions } };
}

/** Whether the user may manage a group: its admins (any member of a group made before rooms had admins). */
export function isAdmin(room: RoomSummary | Room, userId: string | null): boolean {
  if (!room.isGroup || userId === null) return false;
  const admins = room.adminIds ?? [];
  return admins.length === 0 ? room.memberIds.includes(userId) : admins.includes(userId);
}

/** The summary after a message: lastSeq and the preview only move forward. */
export function summaryWithMessage(summary: RoomSummary, message: Message): RoomSummary {
  if (message.seq <= summary.lastSeq && (summary.lastMessage?.seq ?? 0) >= message.seq) return summary;
  const newer = message.seq >= (summary.lastMessage?.seq ?? 0);
  return {
    ...summary,
    lastSeq: Math.max(summary.lastSeq, message.seq),
    lastMessage: newer ? message : summary.lastMessage,
  };
}

/**
 * `memberIds` holds at most 100 members (the first by id): absence from a full list proves nothing, so only a
 * complete list can say the user left.
 */
export function isMember(room: Room, userId: string): boolean {
  return room.memberIds.includes(userId) || room.memberCount > room.memberIds.length;
}

export function roomView(
  entry: RoomEntry & { summary: RoomSummary },
  own: ChatMessage[],
  readSeq: number,
  meId: string | null,
): RoomState {
  const confirmed = entry.timeline.messages;
  const lastSeq = Math.max(entry.summary.lastSeq, entry.timeline.newestSeq ?? 0);
  const oldest = entry.timeline.oldestSeq;
  return {
    room: entry.summary.lastSeq === lastSeq ? entry.summary : { ...entry.summary, lastSeq },
    messages: own.length > 0 ? [...confirmed, ...own] : (confirmed as ChatMessage[]),
    hasOlder: oldest === null ? lastSeq > 0 : oldest > 1, // seqs start at 1 with no gaps
    loadingOlder: entry.loadingOlder,
    lastSeq,
    readSeq,
    unreadCount: unreadCount(confirmed, entry.timeline.seenSeq, lastSeq, readSeq, meId, entry.counted),
    typing: [...entry.typing.values()].map((typing) => typing.user),
    readBy: Object.fromEntries(entry.readBy),
    isAdmin: isAdmin(entry.summary, meId),
  };
}

/**
 * Messages from others after readSeq: counted when every one of them is loaded; else the server's count (when
 * the marker has not moved since) plus what came after it; else estimated from the seqs, less the own messages
 * loaded.
 */
export function unreadCount(
  messages: readonly ChatMessage[],
  seenSeq: number | null,
  lastSeq: number,
  readSeq: number,
  meId: string | null,
  counted: RoomEntry["counted"] = null,
): number {
  const bound = Math.max(0, lastSeq - readSeq);
  if (bound === 0) return 0;
  const oldest = messages[0]?.seq ?? null;
  const allLoaded = oldest !== null && oldest <= readSeq + 1 && (seenSeq ?? 0) >= lastSeq;
  const after = allLoaded ? readSeq : counted && counted.readSeq >= readSeq ? counted.lastSeq : readSeq;
  let own = 0;
  let others = 0;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (!message || (message.seq ?? 0) <= after) break;
    if (message.senderId === meId) own += 1;
    else others += 1;
  }
  if (allLoaded) return Math.min(others, bound);
  if (counted && counted.readSeq >= readSeq) {
    return Math.min(bound, counted.unreadCount + Math.max(0, lastSeq - counted.lastSeq) - own);
  }
  return Math.max(0, bound - own);
}

/** Latest activity first: the last message's time, or the room's creation for a room without messages. */
export function byActivity(a: RoomState, b: RoomState): number {
  const left = a.room.lastMessage?.createdAt ?? a.room.createdAt;
  const right = b.room.lastMessage?.createdAt ?? b.room.createdAt;
  if (left !== right) return left < right ? 1 : -1;
  return a.room.id < b.room.id ? -1 : a.room.id > b.room.id ? 1 : 0;
}

/** A listed summary merged into the known one. */
export function mergeSummary(known: RoomSummary, listed: RoomSummary): RoomSummary {
  // A push may have brought a newer message than the listing holds.
  return (known.lastMessage?.seq ?? 0) > (listed.lastMessage?.seq ?? 0)
    ? { ...listed, lastSeq: Math.max(listed.lastSeq, known.lastSeq), lastMessage: known.lastMessage }
    : listed;
}
