/* How a room is named and described, from the room and the people the client knows. */

import type { RoomSummary, UserState } from "../client";

/** The other member of a direct room (yourself for a room with only you). */
export function otherMemberId(room: RoomSummary, meId: string): string | null {
  return room.memberIds.find((id) => id !== meId) ?? room.memberIds[0] ?? null;
}

/** A group's name; a direct room is named after the other member. */
export function roomDisplayName(room: RoomSummary, users: Record<string, UserState>, meId: string): string {
  if (room.isGroup) return room.name?.trim() || "Unnamed group";
  const otherId = otherMemberId(room, meId);
  const other = otherId ? users[otherId] : undefined;
  if (other?.name) return otherId === meId ? `${other.name} (you)` : other.name;
  const last = room.lastMessage;
  if (last && last.senderId === otherId) return last.senderName;
  return "Direct chat";
}

/** "Bob: see you" / "You: see you" for the room list. */
export function lastMessagePreview(room: RoomSummary, meId: string): string {
  const last = room.lastMessage;
  if (!last) return room.isGroup ? "No messages yet" : "Say hello";
  const who = last.senderId === meId ? "You" : last.senderName;
  if (last.deletedAt) return `${who}: Message deleted`;
  return `${who}: ${last.content.replace(/\s+/g, " ")}`;
}
