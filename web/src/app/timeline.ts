/* A room's messages as the rows the message list shows: a separator for each day, one "New messages" separator
 * above the first unread message, and each message marked as the start of a group (the sender's name and avatar
 * shown) or a continuation of the previous one. */

import type { ChatMessage } from "../client";
import { dayKey } from "./format";

/** Messages from one sender closer than this stay in one group. */
export const GROUP_GAP_MS = 5 * 60_000;

export type Row =
  | { kind: "day"; key: string; date: Date }
  | { kind: "new"; key: string }
  | { kind: "message"; key: string; message: ChatMessage; groupStart: boolean };

export interface TimelineOptions {
  /** Messages from others with a seq above this are unread: the "New messages" separator goes above the first. */
  unreadAfterSeq: number | null;
  meId: string;
}

export const NEW_MESSAGES_KEY = "new-messages";

export function buildRows(messages: readonly ChatMessage[], { unreadAfterSeq, meId }: TimelineOptions): Row[] {
  const rows: Row[] = [];
  let previous: ChatMessage | null = null;
  let previousDay = "";
  let newPlaced = unreadAfterSeq === null;
  for (const message of messages) {
    const date = new Date(message.createdAt);
    const day = dayKey(date);
    let groupStart = previous === null || previous.senderId !== message.senderId;
    if (day !== previousDay) {
      rows.push({ kind: "day", key: `day-${day}`, date });
      previousDay = day;
      groupStart = true;
    }
    if (
      !newPlaced &&
      message.seq !== null &&
      unreadAfterSeq !== null &&
      message.seq > unreadAfterSeq &&
      message.senderId !== meId
    ) {
      rows.push({ kind: "new", key: NEW_MESSAGES_KEY });
      newPlaced = true;
      groupStart = true;
    }
    if (!groupStart && previous && date.getTime() - new Date(previous.createdAt).getTime() > GROUP_GAP_MS) {
      groupStart = true;
    }
    rows.push({ kind: "message", key: message.key, message, groupStart });
    previous = message;
  }
  return rows;
}
