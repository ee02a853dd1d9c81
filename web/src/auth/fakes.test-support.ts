/** Browser stand-ins for the auth tests (Node, no DOM): storage, Web Locks, BroadcastChannel, JWTs, fetch. */

import type { ChannelLike, LockManagerLike } from "./env";

export class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
}

/** navigator.locks shared by "tabs": one holder per name at a time, in request order. */
export class FakeLocks implements LockManagerLike {
  requests = 0;
  private readonly tails = new Map<string, Promise<void>>();

  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    this.requests += 1;
    const previous = this.tails.get(name) ?? Promise.resolve();
    const result = previous.then(callback);
    this.tails.set(
      name,
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  }
}

/** BroadcastChannels of one origin: a message reaches every other channel of its name, asynchronously. */
export class ChannelHub {
  private readonly channels = new Set<{ name: string; listeners: ((event: { data: unknown }) => void)[] }>();

  open = (name: string): ChannelLike => {
    const entry = { name, listeners: [] as ((event: { data: unknown }) => void)[] };
    this.channels.add(entry);
    return {
      postMessage: (data) => {
        const copy: unknown = structuredClone(data);
        for (const other of this.channels) {
          if (other === entry || other.name !== name) continue;
          void Promise.resolve().then(() => other.listeners.forEach((listener) => listener({ data: copy })));
        }
      },
      addEventListener: (_type, listener) => entry.listeners.push(listener),
      close: () => this.channels.delete(entry),
    };
  };
}

/** An unsigned JWT with `claims` (the client never checks signatures: the server does). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: object) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  return `${encode({ alg: "RS256", kid: "test" })}.${encode(claims)}.signature`;
}

export interface RecordedRequest {
  url: string;
  method: string;
  body: string;
}

/** A fetch that answers from `routes` (by URL, then method) and records every request. */
export function fakeFetch(
  routes: Record<string, (request: RecordedRequest) => Response | Promise<Response>>,
): typeof fetch & { requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fetchFake = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const body = init.body === undefined || init.body === null ? "" : String(init.body);
    const request = { url, method: init.method ?? "GET", body };
    requests.push(request);
    const route = routes[url];
    if (!route) return new Response("not found", { status: 404 });
    return route(request);
  };
  return Object.assign(fetchFake, { requests });
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** Lets pending promise callbacks (and fake BroadcastChannel deliveries) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await Promise.resolve();
}
