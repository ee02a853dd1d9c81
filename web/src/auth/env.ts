/** The browser features the auth module uses, injectable so that tests run in Node without a DOM. */

import type * as Oidc from "oidc-client-ts";

/** `navigator.locks`, narrowed: run `callback` while holding the lock `name` (one holder across all tabs). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** A `BroadcastChannel`: messages reach the other instances of the same name (other tabs), not the sender. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  close(): void;
}

export interface AuthEnv {
  fetch: typeof fetch;
  /** Shared by the tabs (localStorage): the OIDC user and its sign-in state. */
  storage: Storage;
  /** Kept per tab across reloads (sessionStorage): the dev-mode session, so two tabs can be two people. */
  tabStorage: Storage;
  /** Cross-tab lock; null where the browser has none (then refreshes are serialized within this tab only). */
  locks: LockManagerLike | null;
  location: { readonly href: string };
  /** Leave the page for `url` (sign-in and sign-out redirects). */
  navigate(url: string): void;
  /** Change the address bar without a navigation (drop ?code=&state= after a sign-in). */
  replaceUrl(url: string): void;
  /** Null where the browser has no BroadcastChannel: other tabs then see a new token only when they next ask. */
  openChannel: ((name: string) => ChannelLike) | null;
  now(): number;
  /** oidc-client-ts, loaded on demand: the dev mode never downloads it. */
  loadOidc(): Promise<typeof Oidc>;
}

/** `overrides` completed with the browser's own features (read only when not overridden). */
export function resolveEnv(overrides: Partial<AuthEnv> = {}): AuthEnv {
  const browser = globalThis as Partial<typeof globalThis>;
  const locks = browser.navigator?.locks;
  const Channel = browser.BroadcastChannel;
  return {
    fetch: overrides.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    storage: overrides.storage ?? required(browser.localStorage, "localStorage"),
    tabStorage: overrides.tabStorage ?? overrides.storage ?? required(browser.sessionStorage, "sessionStorage"),
    locks:
      overrides.locks !== undefined
        ? overrides.locks
        : locks
          ? { request: <T>(name: string, callback: () => Promise<T>) => locks.request(name, callback) as Promise<T> }
          : null,
    location: overrides.location ?? required(browser.location, "location"),
    navigate: overrides.navigate ?? ((url) => required(browser.location, "location").assign(url)),
    replaceUrl:
      overrides.replaceUrl ??
      ((url) => {
        const history = required(browser.history, "history");
        history.replaceState(history.state, "", url);
      }),
    openChannel:
      overrides.openChannel !== undefined ? overrides.openChannel : Channel ? (name) => new Channel(name) : null,
    now: overrides.now ?? (() => Date.now()),
    loadOidc: overrides.loadOidc ?? (() => import("oidc-client-ts")),
  };
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`auth: ${name} is not available here; pass it in createAuth's env`);
  return value;
}

/** One holder at a time within this tab: the fallback when `navigator.locks` is missing. */
export function createLocalLock(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const result = previous.then(callback, callback);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return result;
    },
  };
}

/** A set of listeners; one failing listener does not stop the others. */
export class Listeners<Args extends unknown[]> {
  private readonly listeners = new Set<(...args: Args) => void>();

  add(listener: (...args: Args) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(...args: Args): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(...args);
      } catch (error) {
        console.error("auth: a listener failed", error);
      }
    }
  }
}
