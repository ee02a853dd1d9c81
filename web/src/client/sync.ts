/* Catching up after a reconnect in one `sync` frame (paged on `nextCursor`, at most 100 rooms asked at once)
 * instead of one `history` per room: each room with news brings its counters, its first new messages and its
 * first changes; a room with more messages goes on with `history afterSeq`, one with more changes with `changes`
 * from its version. Rooms the user is no longer in come back in `left`. */
import { LIMITS, type ChangesPage, type Changes, type RoomNews, type Sync, type SyncPage } from "./protocol";
import type { RoomEntry } from "./rooms";

export interface SyncDeps {
  /** A background request (retried when the server says to wait). */
  sync(frame: Sync): Promise<SyncPage>;
  /** False once a newer connection started its own catch-up: this one stops. */
  current(): boolean;
  applyNews(news: RoomNews): void;
  left(roomId: string): void;
  /** Messages after the room's last seq seen, page after page (`history afterSeq`). */
  moreMessages(roomId: string): Promise<void>;
  /** Changes after `version`, page after page (`changes`). */
  moreChanges(roomId: string, version: number): Promise<void>;
}

/** Rooms continued at once (every frame counts against the server's flood control). */
const CONCURRENCY = 2;

/** `rooms`: room id -> last seq the client has; `versions`: room id -> last version it has. */
export async function syncRooms(rooms: Record<string, number>, versions: Record<string, number>, deps: SyncDeps): Promise<void> {
  const followUps: (() => Promise<void>)[] = [];
  for (const chunk of chunks(Object.keys(rooms), LIMITS.syncMaxRooms)) {
    const asked = Object.fromEntries(chunk.map((roomId) => [roomId, rooms[roomId] ?? 0]));
    const known = Object.fromEntries(chunk.flatMap((roomId) => (roomId in versions ? [[roomId, versions[roomId] ?? 0]] : [])));
    let cursor: string | null | undefined;
    do {
      const page = await deps.sync({ action: "sync", rooms: asked, versions: known, ...(cursor ? { cursor } : {}) });
      if (!deps.current()) return;
      for (const roomId of page.left) deps.left(roomId);
      for (const news of page.rooms) {
        deps.applyNews(news);
        if (news.hasMore) followUps.push(() => deps.moreMessages(news.roomId));
        if (news.changesHaveMore) followUps.push(() => deps.moreChanges(news.roomId, news.version));
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  const worker = async () => {
    for (let next = followUps.shift(); next && deps.current(); next = followUps.shift()) await next();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** What a sync asks: the rooms loaded before (with their last seq seen and the version their messages are current
 * with); `tooFar` are those that missed more than `maxGap` messages (better started again from the latest page). */
export function whatToSync(entries: Iterable<RoomEntry>, maxGap: number) {
  const seqs: Record<string, number> = {};
  const versions: Record<string, number> = {};
  const tooFar: RoomEntry[] = [];
  for (const entry of entries) {
    const seen = entry.timeline.seenSeq;
    if (seen === null) continue;
    if ((entry.summary?.lastSeq ?? 0) - seen > maxGap) {
      tooFar.push(entry);
      continue;
    }
    seqs[entry.id] = seen;
    // Messages loaded at an unknown version: every change since the start; none loaded: none before the listing.
    versions[entry.id] = entry.version ?? (entry.timeline.messages.length > 0 ? 0 : (entry.summary?.lastVersion ?? 0));
  }
  return { seqs, versions, tooFar };
}

/** A room's change feed after `version`, page after page; `apply` takes each page. */
export async function loadChanges(
  roomId: string,
  version: number,
  request: (frame: Changes) => Promise<ChangesPage>,
  apply: (page: ChangesPage) => void,
): Promise<void> {
  let after = version;
  for (;;) {
    const page = await request({ action: "changes", roomId, afterVersion: after, limit: LIMITS.pageMaxLimit });
    apply(page);
    if (!page.hasMore || page.version <= after) return;
    after = page.version;
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let index = 0; index < items.length; index += size) result.push(items.slice(index, index + size));
  return result;
}
