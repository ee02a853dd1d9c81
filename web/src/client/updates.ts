/* What the frames of edits, deletions, reactions, fetched messages and the server's read counters do to one
 * room's state. Each returns whether the room changed. */
import { applyReaction, mergeMessage, toChatMessage } from "./messages";
import type { MemberPresence, Message, MessageFrame, MessageUpdated, ReactionFrame, RoomNews, RoomSummary } from "./protocol";
import { summaryWithUpdate, type RoomEntry } from "./rooms";

/** A `messageUpdated`, `messageFound` or `reaction` frame (reply or push) on its room. */
export function applyMessageFrame(entry: RoomEntry, frame: MessageUpdated | MessageFrame | ReactionFrame, meId: string | null): boolean {
  if (frame.type === "reaction") return applyReactionFrame(entry, frame, meId);
  if (frame.type === "messageFound") return applyFetched(entry, frame.message, meId);
  return applyUpdates(entry, [frame.message]);
}

/** Newer states of messages (`messageUpdated`, `changes`, `messageFound`): loaded, fetched, and the preview. */
export function applyUpdates(entry: RoomEntry, messages: readonly Message[]): boolean {
  let changed = false;
  for (const message of messages) {
    if (entry.timeline.update(message)) changed = true;
    const fetched = entry.fetched.get(message.id);
    const next = fetched && mergeMessage(fetched, message);
    if (next) {
      entry.fetched.set(message.id, next);
      changed = true;
    }
    if (entry.summary) {
      const summary = summaryWithUpdate(entry.summary, message);
      if (summary !== entry.summary) changed = true;
      entry.summary = summary;
    }
    changed = noteVersion(entry, message.version ?? 0) || changed;
  }
  return changed;
}

/** A page of the change feed (`changes`, or a room's changes in `sync`) ending at `version`. */
export function applyChanges(entry: RoomEntry, messages: readonly Message[], version: number): boolean {
  const changed = applyUpdates(entry, messages);
  if (version <= (entry.version ?? 0)) return changed;
  entry.version = version;
  return true;
}

/** A `reaction` frame: the counts of a newer version; the user's own reaction when it is theirs. */
export function applyReactionFrame(entry: RoomEntry, frame: ReactionFrame, meId: string | null): boolean {
  let changed = entry.timeline.react(frame, meId);
  const fetched = entry.fetched.get(frame.messageId);
  const next = fetched && applyReaction(fetched, frame, meId);
  if (next) {
    entry.fetched.set(frame.messageId, next);
    changed = true;
  }
  return noteVersion(entry, frame.version) || changed;
}

/** A message fetched by id (a reply's parent): kept beside the loaded pages, which stay gap-free. */
export function applyFetched(entry: RoomEntry, message: Message, meId: string | null): boolean {
  if (entry.timeline.findById(message.id)) return applyUpdates(entry, [message]);
  const known = entry.fetched.get(message.id);
  if (known) return applyUpdates(entry, [message]);
  entry.fetched.set(message.id, toChatMessage(message, meId));
  return true;
}

/** The server's read marker and unread count as of `lastSeq` (a listing, a sync page). */
export function applyCounts(
  entry: RoomEntry,
  counts: Pick<RoomSummary | RoomNews, "readSeq" | "unreadCount" | "lastSeq" | "lastVersion">,
): void {
  entry.counted = { readSeq: counts.readSeq, unreadCount: counts.unreadCount, lastSeq: counts.lastSeq };
  if (entry.summary) {
    entry.summary = {
      ...entry.summary,
      lastSeq: Math.max(entry.summary.lastSeq, counts.lastSeq),
      readSeq: counts.readSeq,
      unreadCount: counts.unreadCount,
      lastVersion: Math.max(entry.summary.lastVersion ?? 0, counts.lastVersion),
    };
  }
}

/** Other members' read markers from a `presence` page (forward only). */
export function applyReadMarks(entry: RoomEntry, members: readonly MemberPresence[], meId: string | null): boolean {
  let changed = false;
  for (const member of members) {
    if (member.userId === meId || (member.readSeq ?? 0) <= (entry.readBy.get(member.userId) ?? 0)) continue;
    entry.readBy.set(member.userId, member.readSeq);
    changed = true;
  }
  return changed;
}

/** The room's change number moved: loaded messages are current with it (pushes keep them so). */
function noteVersion(entry: RoomEntry, version: number): boolean {
  if (entry.version !== null && version > entry.version) entry.version = version;
  if (entry.summary && version > (entry.summary.lastVersion ?? 0)) {
    entry.summary = { ...entry.summary, lastVersion: version };
    return true;
  }
  return false;
}
