/* One room's confirmed messages: deduped by seq and id, ordered by seq, and the end of the gap-free run
 * (`seenSeq`, "the last seq seen") that catching up starts from. */
import { applyReaction, mergeMessage, toChatMessage } from "./messages";
import type { Message, ReactionFrame } from "./protocol";
import type { ChatMessage } from "./types";


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

  /** Bumped whenever a message changes or arrives. */
  revision = 0;

  /** Adds stored messages; returns the ones it did not have, in seq order. Newer versions of loaded ones
   * replace them (see `update`). */
  add(messages: readonly Message[], meId: string | null): ChatMessage[] {
    const added: ChatMessage[] = [];
    for (const message of messages) {
      if (this.bySeq.has(message.seq) || this.byId.has(message.id)) {
        this.update(message);
        continue;
      }
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
    this.revision += 1;
    return added;
  }

  /** A newer state of a loaded message (edited, deleted, reacted to); false when not loaded or not newer. */
  update(message: Message): boolean {
    const current = this.byId.get(message.id);
    const next = current && mergeMessage(current, message);
    return next ? this.replace(current, next) : false;
  }

  /** A reaction frame on a loaded message; false when not loaded or it changes nothing. */
  react(frame: ReactionFrame, meId: string | null): boolean {
    const current = this.byId.get(frame.messageId);
    const next = current && applyReaction(current, frame, meId);
    return next ? this.replace(current, next) : false;
  }

  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  findById(id: string): ChatMessage | undefined {
    return this.byId.get(id);
  }

  private replace(current: ChatMessage, next: ChatMessage): boolean {
    if (next.id) this.byId.set(next.id, next);
    if (next.seq !== null) this.bySeq.set(next.seq, next);
    this.list = this.list.map((message) => (message === current ? next : message));
    this.revision += 1;
    return true;
  }

  /** Forget everything loaded: the room jumps to its latest page (a gap too large to fill). */
  reset(): void {
    this.list = [];
    this.bySeq.clear();
    this.byId.clear();
    this.seenSeq = null;
    this.revision += 1;
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
