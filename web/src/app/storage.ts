/* The client's persisted state (outbox, read markers, last seqs) in localStorage, one namespace per user, so
 * two people signing in on one browser never share an outbox. Falls back to memory when storage is refused. */

import type { KeyValueStore } from "../client";

export function localStore(namespace: string): KeyValueStore {
  const memory = new Map<string, string>();
  const full = (key: string) => `chat:${namespace}:${key}`;
  return {
    get(key) {
      try {
        return localStorage.getItem(full(key));
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(full(key), value);
      } catch {
        memory.set(key, value);
      }
    },
    remove(key) {
      memory.delete(key);
      try {
        localStorage.removeItem(full(key));
      } catch {
        // Nothing stored there to remove.
      }
    },
  };
}
