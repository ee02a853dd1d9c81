import { describe, expect, it, vi } from "vitest";
import type { DevAuthConfig } from "./config";
import { DEV_SESSION_KEY } from "./dev";
import { fakeFetch, json, MemoryStorage, type RecordedRequest } from "./fakes.test-support";
import { type Auth, createAuth, SignedOutError } from "./index";

const CONFIG: DevAuthConfig = { mode: "dev", tokenUrl: "/auth/token", refreshUrl: "/auth/refresh" };
const ALICE = { id: "6f1c3c1e-0000-4000-8000-000000000001", name: "Alice" };
const START = Date.UTC(2025, 0, 1, 12);
const HOUR_S = 3600;

/** The local stack's identity provider: numbered tokens, so each answer is recognisable. */
function devProvider(options: { refresh?: (request: RecordedRequest) => Response | undefined; expiresIn?: number } = {}) {
  let issued = 0;
  const tokens = () => {
    issued += 1;
    return json({
      accessToken: `access-${issued}`,
      idToken: `id-${issued}`,
      refreshToken: `refresh-${issued}`,
      expiresIn: options.expiresIn ?? HOUR_S,
      user: ALICE,
    });
  };
  return fakeFetch({
    "/auth/token": (request) =>
      (JSON.parse(request.body) as { name: string }).name.trim()
        ? tokens()
        : json({ error: "invalid_request", message: "name must be 1 to 50 characters" }, 400),
    "/auth/refresh": (request) => options.refresh?.(request) ?? tokens(),
  });
}

function setup(options: Parameters<typeof devProvider>[0] = {}) {
  const clock = { now: START };
  const tabStorage = new MemoryStorage();
  const fetch = devProvider(options);
  const open = (): Auth =>
    createAuth(CONFIG, {
      fetch,
      storage: new MemoryStorage(),
      tabStorage,
      locks: null,
      openChannel: null,
      location: { href: "http://127.0.0.1:8080/" },
      navigate: () => {
        throw new Error("dev mode never navigates");
      },
      replaceUrl: () => undefined,
      now: () => clock.now,
      loadOidc: () => Promise.reject(new Error("dev mode must not load oidc-client-ts")),
    });
  return { clock, tabStorage, fetch, open, auth: open() };
}

const refreshes = (fetch: { requests: RecordedRequest[] }) => fetch.requests.filter((r) => r.url === "/auth/refresh");

describe("dev sign-in", () => {
  it("signs in by name: POST tokenUrl {name}, the user from the answer's user", async () => {
    const { auth, fetch } = setup();
    expect(await auth.init()).toBeNull();
    expect(await auth.signIn("Alice")).toEqual(ALICE);
    expect(fetch.requests).toEqual([{ url: "/auth/token", method: "POST", body: JSON.stringify({ name: "Alice" }) }]);
    expect(await auth.getAccessToken()).toBe("access-1");
    expect(fetch.requests).toHaveLength(1);
  });

  it("shows the provider's reason when it refuses the name", async () => {
    const { auth } = setup();
    await expect(auth.signIn("  ")).rejects.toThrow("name must be 1 to 50 characters");
  });

  it("is still signed in after a reload (a new Auth on the same tab storage), without a request", async () => {
    const { auth, open, fetch } = setup();
    await auth.signIn("Alice");
    const reloaded = open();
    expect(await reloaded.init()).toEqual(ALICE);
    expect(await reloaded.getAccessToken()).toBe("access-1");
    expect(fetch.requests).toHaveLength(1);
  });

  it("refreshes at reload when the stored token has expired meanwhile", async () => {
    const { auth, open, fetch, clock } = setup();
    await auth.signIn("Alice");
    clock.now += 2 * HOUR_S * 1000;
    const reloaded = open();
    expect(await reloaded.init()).toEqual(ALICE);
    expect(refreshes(fetch).map((r) => r.body)).toEqual([JSON.stringify({ refreshToken: "refresh-1" })]);
    expect(await reloaded.getAccessToken()).toBe("access-2");
  });

  it("refreshes when the token expires within 60 s, not before", async () => {
    const { auth, fetch, clock } = setup();
    await auth.signIn("Alice");
    const expiresAt = START + HOUR_S * 1000;
    clock.now = expiresAt - 61_000;
    expect(await auth.getAccessToken()).toBe("access-1");
    expect(refreshes(fetch)).toHaveLength(0);
    clock.now = expiresAt - 59_000;
    expect(await auth.getAccessToken()).toBe("access-2");
    expect(refreshes(fetch).map((r) => r.body)).toEqual([JSON.stringify({ refreshToken: "refresh-1" })]);
    expect(await auth.getAccessToken()).toBe("access-2"); // the new one is good for an hour
    expect(refreshes(fetch)).toHaveLength(1);
  });

  it("does not refresh a fresh short-lived token on every call (margin: half the lifetime under 2 min)", async () => {
    const { auth, fetch, clock } = setup({ expiresIn: 30 });
    await auth.signIn("Alice");
    expect(await auth.getAccessToken()).toBe("access-1");
    clock.now += 16_000;
    expect(await auth.getAccessToken()).toBe("access-2");
    expect(refreshes(fetch)).toHaveLength(1);
  });

  it("forceRefresh gets a new token even when the current one is fresh, and tells onTokenChanged", async () => {
    const { auth, fetch } = setup();
    await auth.signIn("Alice");
    const changed = vi.fn();
    auth.onTokenChanged(changed);
    expect(await auth.getAccessToken({ forceRefresh: true })).toBe("access-2");
    expect(refreshes(fetch)).toHaveLength(1);
    expect(changed).toHaveBeenCalledExactlyOnceWith("access-2");
  });

  it("makes one refresh request for concurrent callers", async () => {
    const { auth, fetch } = setup();
    await auth.signIn("Alice");
    const tokens = await Promise.all([
      auth.getAccessToken({ forceRefresh: true }),
      auth.getAccessToken({ forceRefresh: true }),
      auth.getAccessToken({ forceRefresh: true }),
    ]);
    expect(tokens).toEqual(["access-2", "access-2", "access-2"]);
    expect(refreshes(fetch)).toHaveLength(1);
  });

  it.each([401, 400])("is signed out when the refresh is refused (%i): onSignedOut, SignedOutError, session gone", async (status) => {
    const { auth, open, tabStorage } = setup({
      refresh: () => json({ error: "invalid_grant", message: "refresh token refused (InvalidSignatureError)" }, status),
    });
    await auth.signIn("Alice");
    const signedOut = vi.fn();
    const changed = vi.fn();
    auth.onSignedOut(signedOut);
    auth.onTokenChanged(changed);
    const refused = auth.getAccessToken({ forceRefresh: true });
    await expect(refused).rejects.toBeInstanceOf(SignedOutError);
    await expect(refused).rejects.toThrow("refresh token refused");
    expect(signedOut).toHaveBeenCalledOnce();
    expect(changed).not.toHaveBeenCalled();
    expect(tabStorage.getItem(DEV_SESSION_KEY)).toBeNull();
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
    expect(await open().init()).toBeNull();
  });

  it("keeps the session when the provider is down (a transient error, not a sign-out)", async () => {
    const { auth } = setup({ refresh: () => json({ error: "server_error", message: "boom" }, 502) });
    await auth.signIn("Alice");
    const signedOut = vi.fn();
    auth.onSignedOut(signedOut);
    const failed = auth.getAccessToken({ forceRefresh: true });
    await expect(failed).rejects.toThrow("boom");
    await expect(failed).rejects.not.toBeInstanceOf(SignedOutError);
    expect(signedOut).not.toHaveBeenCalled();
    expect(await auth.getAccessToken()).toBe("access-1");
  });

  it("while the provider is down, a token about to expire is still given until it has expired", async () => {
    const { auth, clock } = setup({ refresh: () => json({ error: "server_error", message: "boom" }, 503) });
    await auth.signIn("Alice");
    clock.now = START + HOUR_S * 1000 - 30_000;
    expect(await auth.getAccessToken()).toBe("access-1");
    clock.now = START + HOUR_S * 1000;
    await expect(auth.getAccessToken()).rejects.toThrow("boom");
  });

  it("getAccessToken without a session is a SignedOutError", async () => {
    const { auth } = setup();
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
  });

  it("signOut forgets the session", async () => {
    const { auth, open } = setup();
    await auth.signIn("Alice");
    await auth.signOut();
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
    expect(await open().init()).toBeNull();
  });

  it("ignores a stored session it cannot read", async () => {
    const { open, tabStorage } = setup();
    tabStorage.setItem(DEV_SESSION_KEY, "{not json");
    expect(await open().init()).toBeNull();
    tabStorage.setItem(DEV_SESSION_KEY, JSON.stringify({ accessToken: "x" }));
    expect(await open().init()).toBeNull();
  });
});
