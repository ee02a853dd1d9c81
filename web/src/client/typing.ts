/* Who is typing: the user's own `typing` frames, throttled, and the others' typing pushes per room, each expiring
 * by itself (a `false` may never come: a closed tab, a lost push). */
import type { TypingPush } from "./protocol";
import type { RoomEntry } from "./rooms";

export interface TypingOptions {
  now(): number;
  expiryMs: number;
  throttleMs: number;
  send(roomId: string, isTyping: boolean): void;
  /** Someone started or stopped typing in the room. */
  changed(entry: RoomEntry): void;
}

export class TypingTracker {
  private readonly sent = new Map<string, { lastTrueAt: number; active: boolean }>();

  constructor(private readonly options: TypingOptions) {}

  /** Throttled: at most one `true` per throttleMs; `false` only after a `true`. */
  set(roomId: string, isTyping: boolean): void {
    const state = this.sent.get(roomId) ?? { lastTrueAt: -Infinity, active: false };
    this.sent.set(roomId, state);
    if (isTyping) {
      if (this.options.now() - state.lastTrueAt < this.options.throttleMs) return;
      state.lastTrueAt = this.options.now();
      state.active = true;
    } else {
      if (!state.active) return;
      state.active = false;
      state.lastTrueAt = -Infinity;
    }
    this.options.send(roomId, isTyping);
  }

  /** A message ends the typing on the other side: the next key press counts anew. */
  messageSent(roomId: string): void {
    this.sent.delete(roomId);
  }

  receive(entry: RoomEntry, push: TypingPush): void {
    if (!push.isTyping) {
      this.stop(entry, push.userId);
      return;
    }
    const previous = entry.typing.get(push.userId);
    if (previous) clearTimeout(previous.timer);
    const until = this.options.now() + this.options.expiryMs;
    const timer = setTimeout(() => this.stop(entry, push.userId), this.options.expiryMs);
    entry.typing.set(push.userId, { user: { userId: push.userId, userName: push.userName, until }, timer });
    this.options.changed(entry);
  }

  stop(entry: RoomEntry, userId: string): void {
    const typing = entry.typing.get(userId);
    if (!typing) return;
    clearTimeout(typing.timer);
    entry.typing.delete(userId);
    this.options.changed(entry);
  }

  clear(entry: RoomEntry): void {
    for (const userId of [...entry.typing.keys()]) this.stop(entry, userId);
  }
}
