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
  /** The RoomState of the last snapshot, kept until the room changes (so React skips unchanged rooms). */
  view: RoomState | null;
}

export function newRoomEntry(id: string, seenSeq: number | null): RoomEntry {
  return { id, summary: null, timeline: new Timeline(seenSeq), typing: new Map(), loadingOlder: false, view: null };
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
    lastSeq: known?.lastSeq ?? 0,
    lastMessage: known?.lastMessage ?? null,
  };
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
    unreadCount: unreadCount(confirmed, entry.timeline.seenSeq, lastSeq, readSeq, meId),
    typing: [...entry.typing.values()].map((typing) => typing.user),
  };
}

/**
 * Messages from others after readSeq, counted when every one of them is loaded; otherwise estimated from the
 * seqs (which may count own messages sent from another device).
 */
export function unreadCount(
  messages: readonly ChatMessage[],
  seenSeq: number | null,
  lastSeq: number,
  readSeq: number,
  meId: string | null,
): number {
  const bound = Math.max(0, lastSeq - readSeq);
  if (bound === 0) return 0;
  const oldest = messages[0]?.seq ?? null;
  const allLoaded = oldest !== null && oldest <= readSeq + 1 && (seenSeq ?? 0) >= lastSeq;
  if (!allLoaded) return bound;
  let count = 0;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (!message || (message.seq ?? 0) <= readSeq) break;
    if (message.senderId !== meId) count += 1;
  }
  return Math.min(count, bound);
}

/** Latest activity first: the last message's time, or the room's creation for a room without messages. */
export function byActivity(a: RoomState, b: RoomState): number {
  const left = a.room.lastMessage?.createdAt ?? a.room.createdAt;
  const right = b.room.lastMessage?.createdAt ?? b.room.createdAt;
  if (left !== right) return left < right ? 1 : -1;
  return a.room.id < b.room.id ? -1 : a.room.id > b.room.id ? 1 : 0;
}
