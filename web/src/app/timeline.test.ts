import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../client";
import { buildRows, GROUP_GAP_MS, NEW_MESSAGES_KEY, type Row } from "./timeline";

let seq = 0;
function message(senderId: string, at: Date, extra: Partial<ChatMessage> = {}): ChatMessage {
  seq += 1;
  return {
    key: `m${seq}`,
    id: `m${seq}`,
    roomId: "r1",
    seq,
    senderId,
    senderName: senderId.toUpperCase(),
    content: `message ${seq}`,
    createdAt: at.toISOString(),
    clientMsgId: `c${seq}`,
    replyToId: null,
    replyTo: null,
    version: 0,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    myReactions: [],
    status: "sent",
    ...extra,
  };
}

const day1 = (minute: number) => new Date(2025, 5, 17, 10, minute);
const day2 = (minute: number) => new Date(2025, 5, 18, 10, minute);

/** A compact picture of the rows: "day", "new", "bob+" (group start) or "bob" (continued). */
function shape(rows: Row[]): string[] {
  return rows.map((row) => (row.kind === "message" ? `${row.message.senderId}${row.groupStart ? "+" : ""}` : row.kind));
}

describe("buildRows", () => {
  it("groups consecutive messages of one sender and starts a group when the sender changes", () => {
    const rows = buildRows(
      [message("bob", day1(0)), message("bob", day1(1)), message("ann", day1(2)), message("bob", day1(3))],
      { unreadAfterSeq: null, meId: "ann" },
    );
    expect(shape(rows)).toEqual(["day", "bob+", "bob", "ann+", "bob+"]);
  });

  it("puts a separator before each new day and starts a group after it", () => {
    const rows = buildRows([message("bob", day1(0)), message("bob", day2(0)), message("bob", day2(1))], {
      unreadAfterSeq: null,
      meId: "ann",
    });
    expect(shape(rows)).toEqual(["day", "bob+", "day", "bob+", "bob"]);
    expect(rows[0]?.key).not.toBe(rows[2]?.key);
  });

  it("starts a new group after a long pause", () => {
    const later = new Date(day1(0).getTime() + GROUP_GAP_MS + 1000);
    const rows = buildRows([message("bob", day1(0)), message("bob", later)], { unreadAfterSeq: null, meId: "ann" });
    expect(shape(rows)).toEqual(["day", "bob+", "bob+"]);
  });

  it("puts the New messages separator above the first unread message from someone else", () => {
    const messages = [message("bob", day1(0)), message("ann", day1(1)), message("bob", day1(2)), message("bob", day1(3))];
    const readSeq = messages[0]!.seq!;
    const rows = buildRows(messages, { unreadAfterSeq: readSeq, meId: "ann" });
    // Ann's own message after the read marker is not unread.
    expect(shape(rows)).toEqual(["day", "bob+", "ann+", "new", "bob+", "bob"]);
    expect(rows.filter((row) => row.key === NEW_MESSAGES_KEY)).toHaveLength(1);
  });

  it("has no New messages separator when nothing is unread", () => {
    const messages = [message("bob", day1(0)), message("bob", day1(1))];
    expect(shape(buildRows(messages, { unreadAfterSeq: messages[1]!.seq, meId: "ann" }))).not.toContain("new");
    expect(shape(buildRows(messages, { unreadAfterSeq: null, meId: "ann" }))).not.toContain("new");
  });

  it("groups own pending messages with the sent ones before them and keys them by clientMsgId", () => {
    const sent = message("ann", day1(0));
    const pending = message("ann", day1(1), { key: "client-1", id: null, seq: null, status: "pending" });
    const rows = buildRows([sent, pending], { unreadAfterSeq: 0, meId: "ann" });
    expect(shape(rows)).toEqual(["day", "ann+", "ann"]);
    expect(rows[2]?.key).toBe("client-1");
  });
});
