import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { vi } from "vitest";
import { backoffDelay } from "./connection";
import { harness, seededRandom, settle, ME } from "./testing";
import type { ConnectionState } from "./types";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with full jitter below the ceiling", () => {
    const random = seededRandom(7);
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const ceiling = Math.min(30_000, 500 * 2 ** attempt);
      for (let i = 0; i < 50; i += 1) {
        const delay = backoffDelay(attempt, random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
    expect(backoffDelay(3, () => 0.999)).toBe(Math.floor(0.999 * 4000));
    expect(backoffDelay(20, () => 0.5)).toBe(15_000);
  });

  it("spreads clients out (jitter): delays of one attempt differ", () => {
    const random = seededRandom(1);
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(5, random)));
    expect(delays.size).toBeGreaterThan(15);
  });
});

describe("connecting", () => {
  it("connects with the access token in the url and says online", async () => {
    const h = harness();
    const states: ConnectionState[] = [];
    h.client.on("connection", (event) => states.push(event.state));
    await h.connect();
    expect(h.socket().url).toBe("ws://chat.test/ws?token=token-1");
    expect(states.map((state) => state.status)).toEqual(["connecting", "online"]);
    expect(h.client.getSnapshot().connection.status).toBe("online");
  });

  it("reconnects with a delay that grows and stays within the backoff bounds", async () => {
    const h = harness();
    await h.connect();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      h.socket().drop();
      const state = h.client.getSnapshot().connection;
      if (state.status !== "reconnecting") throw new Error(`not reconnecting: ${state.status}`);
      expect(state.attempt).toBe(attempt + 1);
      const delay = state.retryAt - Date.now();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(30_000, 500 * 2 ** attempt));
      delays.push(delay);
      const count = h.sockets.length;
      await vi.advanceTimersByTimeAsync(Math.max(0, delay - 1));
      expect(h.sockets.length).toBe(count); // not before its time
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(h.sockets.length).toBe(count + 1);
      h.socket().open(); // opens, but drops again before it is stable
    }
    // Grows: the last ceilings are far above the first; jittered: seeded, so not all at the ceiling.
    expect(Math.max(...delays.slice(3))).toBeGreaterThan(Math.max(...delays.slice(0, 2)));
  });

  it("starts the backoff over once a connection stayed up", async () => {
    const h = harness({ random: () => 0.99 });
    await h.connect();
    for (let i = 0; i < 4; i += 1) {
      h.socket().drop();
      await vi.advanceTimersByTimeAsync(30_000);
      h.socket().open();
    }
    await vi.advanceTimersByTimeAsync(10_000); // stable
    h.socket().drop();
    const state = h.client.getSnapshot().connection;
    expect(state).toMatchObject({ status: "reconnecting", attempt: 1 });
    if (state.status === "reconnecting") expect(state.retryAt - Date.now()).toBeLessThan(500);
  });

  it("pings every 5 minutes and reconnects when no pong comes", async () => {
    const h = harness();
    const first = await h.connect();
    await vi.advanceTimersByTimeAsync(5 * 60_000 - 1);
    expect(first.frames("ping")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(first.frames("ping")).toHaveLength(1);
    first.answer("ping", { type: "pong" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.sockets).toHaveLength(1); // the pong came: still the same socket
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    expect(first.frames("ping")).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(15_000); // no pong this time
    expect(first.closedByClient).toBe(true);
    expect(h.client.getSnapshot().connection.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.sockets).toHaveLength(2);
  });

  it("treats a request without reply as a dead socket", async () => {
    const h = harness();
    const first = await h.connect();
    const search = expect(h.client.searchUsers("bo")).rejects.toMatchObject({ code: "timeout" });
    await vi.advanceTimersByTimeAsync(15_000);
    await search;
    expect(first.closedByClient).toBe(true);
    expect(h.client.getSnapshot().connection.status).toBe("reconnecting");
  });

  it("renews the connection before the 2-hour limit, keeping the old one until the new one opens", async () => {
    const h = harness();
    const first = await h.connect();
    // Pongs keep it alive meanwhile.
    for (let minutes = 5; minutes < 110; minutes += 5) {
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      if (first.pending("ping")) first.answer("ping", { type: "pong" });
    }
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(h.sockets).toHaveLength(2);
    expect(Date.now() - new Date("2025-01-02T00:00:00Z").getTime()).toBeLessThan(2 * 3600_000);
    expect(first.closedByClient).toBe(false);
    expect(h.client.getSnapshot().connection.status).toBe("online"); // no banner flicker
    h.socket().open();
    await settle();
    const sent = h.client.send("r1", "after renewal");
    expect(h.socket().frames("sendMessage")).toHaveLength(1);
    expect(first.frames("sendMessage")).toHaveLength(0);
    expect(sent.status).toBe("pending");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(first.closedByClient).toBe(true);
  });
});

describe("tokens", () => {
  it("reconnects with the new token when tokenRefreshed() is called", async () => {
    const h = harness();
    const first = await h.connect();
    h.client.tokenRefreshed();
    await settle();
    expect(h.sockets).toHaveLength(2);
    expect(h.socket().token).toBe("token-2");
    h.socket().open();
    await settle();
    expect(first.closedByClient).toBe(false); // still draining its replies
    await vi.advanceTimersByTimeAsync(30_000);
    expect(first.closedByClient).toBe(true);
  });

  it("forces a token refresh after a socket closes without ever opening (401 at the upgrade)", async () => {
    const h = harness();
    h.client.start(ME);
    await settle();
    expect(h.getToken).toHaveBeenLastCalledWith(undefined);
    h.socket().drop(1006); // refused before opening
    await vi.advanceTimersByTimeAsync(500);
    expect(h.getToken).toHaveBeenCalledTimes(2);
    expect(h.getToken).toHaveBeenLastCalledWith({ forceRefresh: true });
    expect(h.sockets).toHaveLength(2);
    expect(h.socket().token).toBe("token-2");
    h.socket().open();
    await settle();
    expect(h.client.getSnapshot().connection.status).toBe("online");
  });

  it("refreshes again after a server restart that outlasted the first refresh (401s once it is back)", async () => {
    const h = harness();
    await h.connect();
    h.getToken.mockImplementation(async (options?: { forceRefresh?: boolean }) => {
      if (options?.forceRefresh) throw new TypeError("Failed to fetch"); // the identity provider is down too
      return "stale-token";
    });
    h.socket().drop(1001); // the server goes away
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(31_000); // down for a while: each attempt refused, each refresh failing
      const last = h.sockets.at(-1);
      if (last && last.readyState === 0) last.drop(1006);
    }
    const forcedWhileDown = h.getToken.mock.calls.filter(([options]) => options?.forceRefresh).length;
    expect(forcedWhileDown).toBeGreaterThan(1); // a failed refresh does not count as done
    h.getToken.mockImplementation(async (options?: { forceRefresh?: boolean }) => (options?.forceRefresh ? "fresh" : "stale-token"));
    for (let i = 0; i < 20 && h.socket().token !== "fresh"; i++) {
      h.socket().drop(1006); // back up, but the old token is refused
      await vi.advanceTimersByTimeAsync(31_000);
    }
    expect(h.socket().token).toBe("fresh");
    h.socket().open();
    await settle();
    expect(h.client.getSnapshot().connection.status).toBe("online");
  });

  it("treats an error without a close (Node's WebSocket on a 401) like a close", async () => {
    const h = harness();
    h.client.start(ME);
    await settle();
    h.socket().fail();
    expect(h.client.getSnapshot().connection.status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(500);
    expect(h.getToken).toHaveBeenLastCalledWith({ forceRefresh: true });
    expect(h.sockets).toHaveLength(2);
    h.sockets[0]?.drop(); // a late close of the failed socket changes nothing
    expect(h.client.getSnapshot().connection.status).toBe("connecting");
  });

  it("does not force a refresh after a connection that opened drops", async () => {
    const h = harness();
    await h.connect();
    h.socket().drop(1001);
    await vi.advanceTimersByTimeAsync(500);
    expect(h.getToken).toHaveBeenLastCalledWith(undefined);
  });

  it("is signed out when the auth module says the session is over", async () => {
    const h = harness();
    h.getToken.mockRejectedValue(signedOut("refresh refused"));
    h.client.start(ME);
    await settle();
    expect(h.client.getSnapshot().connection).toEqual({ status: "signedOut", reason: "refresh refused" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.sockets).toHaveLength(0); // no retry loop
  });

  it("keeps retrying with backoff while the identity provider cannot be reached", async () => {
    const h = harness();
    h.getToken.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    h.client.start(ME);
    await settle();
    expect(h.client.getSnapshot().connection).toMatchObject({ status: "reconnecting", reason: "could not get a token: Failed to fetch" });
    expect(h.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.sockets).toHaveLength(1);
    h.socket().open();
    await settle();
    expect(h.client.getSnapshot().connection.status).toBe("online");
  });

  it("is signed out when the refresh after a refused upgrade fails", async () => {
    const h = harness();
    h.client.start(ME);
    await settle();
    h.getToken.mockRejectedValue(signedOut("session ended"));
    h.socket().drop(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.client.getSnapshot().connection.status).toBe("signedOut");
  });

  it("refreshes the token and renews the connection on an `unauthorized` error", async () => {
    const h = harness();
    const first = await h.connect();
    const pending = h.client.send("r1", "hello");
    first.answerError("sendMessage", "unauthorized");
    await settle();
    expect(h.getToken).toHaveBeenLastCalledWith({ forceRefresh: true });
    expect(h.sockets).toHaveLength(2);
    expect(h.client.getSnapshot().rooms).toEqual([]);
    h.socket().open();
    await settle();
    // The message went again on the new socket, with the same clientMsgId, and is still pending.
    expect(h.socket().frames("sendMessage").map((f) => f.clientMsgId)).toEqual([pending.clientMsgId]);
  });
});

describe("network hints and stop", () => {
  it("goes offline without retrying, and reconnects at once when back online", async () => {
    const h = harness();
    const first = await h.connect();
    h.client.setNetworkOnline(false);
    expect(first.closedByClient).toBe(true);
    expect(h.client.getSnapshot().connection).toEqual({ status: "offline", reason: "network" });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.sockets).toHaveLength(1);
    h.client.setNetworkOnline(true);
    await settle();
    expect(h.sockets).toHaveLength(2);
    expect(h.client.getSnapshot().connection.status).toBe("connecting");
  });

  it("stop() closes the socket and stops every timer", async () => {
    const h = harness();
    const first = await h.connect();
    h.client.stop();
    expect(first.closedByClient).toBe(true);
    expect(h.client.getSnapshot().connection).toEqual({ status: "offline", reason: "stopped" });
    await vi.advanceTimersByTimeAsync(3 * 3600_000);
    expect(h.sockets).toHaveLength(1);
    expect(first.frames("ping")).toHaveLength(0);
  });

  it("rejects requests with `offline` when the socket closes, and at once when none is open", async () => {
    const h = harness();
    const first = await h.connect();
    const creating = h.client.createRoom("Team", [ME.id]);
    first.drop();
    await expect(creating).rejects.toMatchObject({ name: "ChatRequestError", code: "offline" });
    await expect(h.client.openDirect("u-bob")).rejects.toMatchObject({ code: "offline" });
  });
});

function signedOut(message: string): Error {
  const error = new Error(message);
  error.name = "SignedOutError";
  return error;
}
