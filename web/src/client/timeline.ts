/* One room's confirmed messages: deduped by seq and id, ordered by seq, and the end of the gap-free run
 * (`seenSeq`, "the last seq seen") that catching up starts from. */
import type { Message } from "./protocol";
import type { ChatMessage } from "./types";

export function toChatMessage(message: Message, meId: string | null): ChatMessage {
  const own = message.senderId === meId;
  return {
    key: own ? message.clientMsgId : message.id, // own: the key the pending copy had, so React keeps the row
    id: message.id,
    roomId: message.roomId,
    seq: message.seq,
    senderId: message.senderId,
    senderName: message.senderName,
    content: message.content,
    createdAt: message.createdAt,
    clientMsgId: message.clientMsgId,
    replyToId: message.replyToId ?? null,
    status: "sent",
  };
}

export class Timeline {
  /** Ordered by seq; replaced (never mutated) on change, so snapshots can share it. */
  private list: ChatMessage[] = [];
  private readonly bySeq = new Map<number, ChatMessage>();
  private readonly byId = new Map<string, ChatMessage>();

  /** The highest seq up to which nothing is missing (from the first loaded, or the stored value). */
  seenSeq: number | null;

  constructor(seenSeq: number | null = null) {
    this.seenSeq = seenSeq;
  }

  get messages(): readonly ChatMessage[] {
    return this.list;
  }

  get oldestSeq(): number | null {
    return this.list[0]?.seq ?? null;
  }

  get newestSeq(): number | null {
    return this.list.at(-1)?.seq ?? null;
  }

  /** Adds stored messages; returns the ones it did not have, in seq order. */
  add(messages: readonly Message[], meId: string | null): ChatMessage[] {
    const added: ChatMessage[] = [];
    for (const message of messages) {
      if (this.bySeq.has(message.seq) || this.byId.has(message.id)) continue;
      const entry = toChatMessage(message, meId);
      this.bySeq.set(message.seq, entry);
      this.byId.set(message.id, entry);
      added.push(entry);
    }
    if (added.length === 0) return added;
    added.sort(bySeq);
    const newest = this.newestSeq;
    const merged = [...this.list, ...added];
    // The common case (a push, a catch-up page) appends; a page of older messages or a gap fill sorts.
    this.list = newest === null || (added[0]?.seq ?? 0) > newest ? merged : merged.sort(bySeq);
    this.advanceSeen();
    return added;
  }

  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  findById(id: string): ChatMessage | undefined {
    return this.byId.get(id);
  }

  /** Forget everything loaded: the room jumps to its latest page (a gap too large to fill). */
  reset(): void {
    this.list = [];
    this.bySeq.clear();
    this.byId.clear();
    this.seenSeq = null;
  }

  private advanceSeen(): void {
    let seen = this.seenSeq ?? this.list[0]?.seq ?? null;
    if (seen === null) return;
    while (this.bySeq.has(seen + 1)) seen += 1;
    this.seenSeq = seen;
  }
}

function bySeq(a: ChatMessage, b: ChatMessage): number {
  return (a.seq ?? 0) - (b.seq ?? 0);
}
