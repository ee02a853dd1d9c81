/* The snapshot contract of React's useSyncExternalStore: getSnapshot returns the same object until something
 * changed, and listeners hear of changes once per microtask however many frames arrived. Plus typed events. */
import type { ChatEvent } from "./types";

export class SnapshotStore<T> {
  private snapshot: T | null = null;
  private readonly listeners = new Set<() => void>();
  private notifyQueued = false;

  constructor(private readonly build: () => T) {}

  get(): T {
    this.snapshot ??= this.build();
    return this.snapshot;
  }

  /** Something changed: the next get() builds a new snapshot, listeners are told soon (batched). */
  invalidate(): void {
    this.snapshot = null;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}

type Handler = (event: ChatEvent) => void;

export class Events {
  private readonly handlers = new Map<ChatEvent["type"], Set<Handler>>();

  on<K extends ChatEvent["type"]>(type: K, handler: (event: Extract<ChatEvent, { type: K }>) => void): () => void {
    const set = this.handlers.get(type) ?? new Set<Handler>();
    this.handlers.set(type, set);
    set.add(handler as Handler);
    return () => void set.delete(handler as Handler);
  }

  emit(event: ChatEvent): void {
    for (const handler of [...(this.handlers.get(event.type) ?? [])]) {
      try {
        handler(event);
      } catch (error) {
        // A faulty handler of the app must not break the protocol client; surface it without throwing here.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
