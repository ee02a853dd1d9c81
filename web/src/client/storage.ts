/* Where the client keeps what must survive a reload: the outbox, read markers and the last seq seen per room.
 * Synchronous on purpose (localStorage, MMKV on React Native); the client writes small JSON values. */

export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/** The default: nothing survives a reload. */
export function memoryStore(): KeyValueStore {
  const values = new Map<string, string>();
  return {
    get: (key) => values.get(key) ?? null,
    set: (key, value) => void values.set(key, value),
    remove: (key) => void values.delete(key),
  };
}

/** The part of the DOM's Storage the client uses (localStorage, sessionStorage, or any look-alike). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A KeyValueStore over `localStorage` (pass it in: this module never touches `window`). When the storage
 * refuses (quota exceeded, disabled in private mode) values are kept in memory: losing persistence must not
 * break chatting.
 */
export function localStorageStore(storage: StorageLike, prefix = "chat:"): KeyValueStore {
  const fallback = new Map<string, string>();
  return {
    get(key) {
      if (fallback.has(key)) return fallback.get(key) ?? null;
      try {
        return storage.getItem(prefix + key);
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        storage.setItem(prefix + key, value);
        fallback.delete(key);
      } catch {
        fallback.set(key, value);
      }
    },
    remove(key) {
      fallback.delete(key);
      try {
        storage.removeItem(prefix + key);
      } catch {
        /* nothing stored there */
      }
    },
  };
}

/** Parsed JSON from the store, or null when absent or unreadable (another version, a manual edit). */
export function readJson<T>(store: KeyValueStore, key: string, isValid: (value: unknown) => value is T): T | null {
  const raw = store.get(key);
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return isValid(value) ? value : null;
  } catch {
    return null;
  }
}

export function isNumberRecord(value: unknown): value is Record<string, number> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "number" && Number.isFinite(v))
  );
}

/**
 * Per-room numbers that only move forward (read markers, the last seq seen), saved as one JSON object. A save
 * merges with what another tab of the same user saved: the higher number wins.
 */
export class ForwardMarkers {
  private readonly values: Record<string, number>;
  private readonly deleted = new Set<string>();
  private saveQueued = false;
  /** Whether anything was stored before this session (a device's first run has nothing). */
  readonly existed: boolean;

  constructor(private readonly store: KeyValueStore, private readonly key: string) {
    const stored = readJson(store, key, isNumberRecord);
    this.existed = stored !== null;
    this.values = { ...stored };
  }

  get(roomId: string): number | undefined {
    return Object.hasOwn(this.values, roomId) ? this.values[roomId] : undefined;
  }

  /** Returns whether the value moved. */
  advance(roomId: string, value: number): boolean {
    const current = this.get(roomId);
    if (current !== undefined && value <= current) return false;
    this.values[roomId] = value;
    this.deleted.delete(roomId);
    this.queueSave();
    return true;
  }

  delete(roomId: string): void {
    delete this.values[roomId];
    this.deleted.add(roomId);
    this.queueSave();
  }

  /** Saves even when empty, so that the next session knows it is not the device's first. */
  keep(): void {
    this.queueSave();
  }

  /** Batched: a catch-up of 100 messages writes once. */
  private queueSave(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    queueMicrotask(() => {
      this.saveQueued = false;
      const merged: Record<string, number> = { ...readJson(this.store, this.key, isNumberRecord) };
      for (const roomId of this.deleted) delete merged[roomId];
      for (const [roomId, value] of Object.entries(this.values)) merged[roomId] = Math.max(value, merged[roomId] ?? value);
      this.store.set(this.key, JSON.stringify(merged));
    });
  }
}
