/* Runtime helpers of the client: clientMsgIds and the default WebSocket. */
import { backoffDelay } from "./connection";
import { ChatRequestError } from "./errors";
import type { ClientOptions, WebSocketLike } from "./types";

export type ClientSettings = Required<Omit<ClientOptions, "url" | "getToken" | "storage" | "createSocket" | "random" | "now" | "randomUUID">>;

export function clientSettings(options: ClientOptions): ClientSettings {
  return {
    backoffBaseMs: options.backoffBaseMs ?? 500,
    backoffCapMs: options.backoffCapMs ?? 30_000,
    pingIntervalMs: options.pingIntervalMs ?? 5 * 60_000,
    maxConnectionAgeMs: options.maxConnectionAgeMs ?? 110 * 60_000,
    stableAfterMs: options.stableAfterMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    sendTimeoutMs: options.sendTimeoutMs ?? 30_000,
    typingExpiryMs: options.typingExpiryMs ?? 6_000,
    typingThrottleMs: options.typingThrottleMs ?? 3_000,
    maxSendAttempts: options.maxSendAttempts ?? 5,
  };
}

/** Runs a request the user did not ask for, waiting and trying again when the server says so (rate_limited,
 * unavailable, internal), at most `tries` times. */
export async function retrying<T>(run: () => Promise<T>, random: () => number, tries: number): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const code = error instanceof ChatRequestError ? error.code : "internal";
      const waits = code === "rate_limited" || code === "unavailable" || code === "internal";
      if (!waits || attempt >= tries) throw error;
      const delay = (error as ChatRequestError).retryAfterMs ?? backoffDelay(attempt, random, 1000, 30_000);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * A v4 UUID for a clientMsgId: `crypto.randomUUID` where it exists (it needs a secure context in browsers),
 * else built from `crypto.getRandomValues` (React Native with a polyfill), else from Math.random.
 */
export function randomUuid(): string {
  const crypto = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === "function") crypto.getRandomValues(bytes);
  else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function defaultSocket(url: string): WebSocketLike {
  const WebSocketClass = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!WebSocketClass) throw new Error("No WebSocket in this runtime: pass createSocket");
  return new WebSocketClass(url);
}
