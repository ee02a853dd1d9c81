/* What lets the app open without a network: the last settings that loaded, and the per-user store that holds the
 * client's persisted state and the offline snapshot (src/client/offline.ts). The service worker serves the app
 * itself; it never caches config.json (a deploy may change it), so the app keeps its own copy. */

import { parseConfig, type AppConfig } from "../auth";
import { localStorageStore, memoryStore, OfflineSnapshots, type KeyValueStore } from "../client";

const CONFIG_KEY = "chat.lastConfig";

/** The client's persisted state (outbox, read markers, last seqs, the offline snapshot), one namespace per user
 * so that two people signing in on one browser never share anything; in memory when the browser refuses storage. */
export function userStore(userId: string): KeyValueStore {
  try {
    return localStorageStore(window.localStorage, `chat:${userId}:`);
  } catch {
    return memoryStore();
  }
}

/** Users signed out in this page: a save still due (a timer, the page going away) must not bring their chats back. */
const signedOut = new Set<string>();

/** The offline copy of a user who is signed in (again). */
export function offlineSnapshots(userId: string): OfflineSnapshots {
  signedOut.delete(userId);
  return new OfflineSnapshots(userStore(userId));
}

export function mayKeepOffline(userId: string): boolean {
  return !signedOut.has(userId);
}

/** Sign-out: the user's saved chats leave the device (the outbox and markers are the client's to keep). */
export function forgetOfflineSnapshot(userId: string): void {
  signedOut.add(userId);
  new OfflineSnapshots(userStore(userId)).clear();
}

/**
 * Loads the settings with `load`; when the network fails (not when the server answers wrongly), the copy kept
 * from the last successful load, so that an installed app opens offline.
 */
export async function loadConfigOrLast(load: (fetcher: typeof fetch) => Promise<AppConfig>): Promise<AppConfig> {
  let networkFailed = false;
  const fetcher: typeof fetch = (input, init) =>
    globalThis.fetch(input, init).catch((error: unknown) => {
      networkFailed = true;
      throw error;
    });
  try {
    const config = await load(fetcher);
    try {
      localStorage.setItem(CONFIG_KEY, JSON.stringify(config));
    } catch {
      // Not kept: the app simply will not open offline.
    }
    return config;
  } catch (error) {
    const last = networkFailed ? lastConfig() : null;
    if (last) return last;
    throw error;
  }
}

function lastConfig(): AppConfig | null {
  try {
    const raw = localStorage.getItem(CONFIG_KEY);
    return raw ? parseConfig(JSON.parse(raw)) : null;
  } catch {
    return null;
  }
}
