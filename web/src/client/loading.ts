/* Loading a room's messages with `history`: its latest page, the page before the oldest loaded, and catching up
 * after the last seq seen (page after page, one catch-up at a time per room; a room that missed too much jumps
 * to its latest page instead). */
import { LIMITS, type History, type HistoryPage, type Message } from "./protocol";
import type { RoomEntry } from "./rooms";

/** Past this many missed messages a room jumps to its latest page instead of loading them all. */
export const MAX_CATCH_UP_MESSAGES = 1000;

export interface LoaderDeps {
  entry(roomId: string): RoomEntry | undefined;
  /** A background `history` request. */
  history(frame: History): Promise<HistoryPage>;
  add(roomId: string, messages: readonly Message[]): void;
  changed(roomId: string): void;
}

export class HistoryLoader {
  private readonly catchUps = new Map<string, Promise<void>>();
  private readonly latestLoads = new Map<string, Promise<void>>();

  constructor(private readonly deps: LoaderDeps) {}

  /** Whether messages after the last seq seen exist (the room was loaded before, here or before a reload). */
  hasNews(entry: RoomEntry): boolean {
    const seen = entry.timeline.seenSeq;
    const lastSeq = Math.max(entry.summary?.lastSeq ?? 0, entry.timeline.newestSeq ?? 0);
    return seen !== null && seen < lastSeq;
  }

  /** The room's catch-up under way, if any. */
  running(roomId: string): Promise<void> | undefined {
    return this.catchUps.get(roomId);
  }

  /** `history afterSeq` from the last seq seen, page after page; one at a time per room. */
  catchUp(roomId: string): Promise<void> {
    const running = this.catchUps.get(roomId);
    if (running) return running; // its loop also fetches whatever made this call
    const task = this.runCatchUp(roomId).finally(() => this.catchUps.delete(roomId));
    this.catchUps.set(roomId, task);
    return task;
  }

  /** The latest page, once at a time per room. */
  loadLatest(roomId: string): Promise<void> {
    const running = this.latestLoads.get(roomId);
    if (running) return running;
    const task = this.deps
      .history({ action: "history", roomId, limit: LIMITS.historyDefaultLimit })
      .then((page) => this.deps.add(roomId, page.messages))
      .finally(() => this.latestLoads.delete(roomId));
    this.latestLoads.set(roomId, task);
    return task;
  }

  /** One page before the oldest loaded message (there is one: oldestSeq > 1). */
  async loadOlder(entry: RoomEntry, oldest: number): Promise<void> {
    this.setLoadingOlder(entry, true);
    try {
      const page = await this.deps.history({ action: "history", roomId: entry.id, beforeSeq: oldest, limit: LIMITS.historyDefaultLimit });
      this.deps.add(entry.id, page.messages);
    } finally {
      this.setLoadingOlder(entry, false);
    }
  }

  private async runCatchUp(roomId: string): Promise<void> {
    // Goes on while the server says more follow, or while a push told of a seq beyond what is loaded.
    let hasMore = false;
    for (;;) {
      const entry = this.deps.entry(roomId);
      const from = entry?.timeline.seenSeq ?? null;
      if (!entry || from === null || (!hasMore && !this.hasNews(entry))) return;
      const lastSeq = Math.max(entry.summary?.lastSeq ?? 0, entry.timeline.newestSeq ?? 0);
      if (lastSeq - from > MAX_CATCH_UP_MESSAGES) {
        entry.timeline.reset();
        this.deps.changed(roomId);
        await this.loadLatest(roomId);
        return;
      }
      const page = await this.deps.history({ action: "history", roomId, afterSeq: from, limit: LIMITS.historyMaxLimit });
      this.deps.add(roomId, page.messages);
      hasMore = page.hasMore;
      // No progress means nothing more to fetch (a lastSeq we were told that the server does not have).
      if ((this.deps.entry(roomId)?.timeline.seenSeq ?? from) <= from) return;
    }
  }

  private setLoadingOlder(entry: RoomEntry, loading: boolean): void {
    entry.loadingOlder = loading;
    this.deps.changed(entry.id);
  }
}
