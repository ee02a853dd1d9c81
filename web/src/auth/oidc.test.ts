/**
 * Cognito and OIDC modes, through the real oidc-client-ts: only the network (global fetch) and the browser
 * (storage, locks, BroadcastChannel, navigation) are fakes.
 */

import { User } from "oidc-client-ts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CognitoAuthConfig, OidcAuthConfig } from "./config";
import type { AuthEnv } from "./env";
import {
  ChannelHub,
  FakeLocks,
  fakeFetch,
  fakeJwt,
  json,
  MemoryStorage,
  type RecordedRequest,
  settle,
} from "./fakes.test-support";
import { type Auth, createAuth, SignedOutError } from "./index";
import { cognitoLogoutUrl, displayUser } from "./oidc";

const LOGIN = "https://chat-1.auth.us-east-1.amazoncognito.com";
const COGNITO: CognitoAuthConfig = {
  mode: "cognito",
  clientId: "client123",
  issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
  // A deployer "fixing" refresh tokens the usual OIDC way: Cognito would refuse the whole sign-in.
  scopes: ["openid", "profile", "email", "offline_access"],
  redirectUri: "https://d111.cloudfront.net/",
  authorizationEndpoint: `${LOGIN}/oauth2/authorize`,
  tokenEndpoint: `${LOGIN}/oauth2/token`,
  logoutEndpoint: `${LOGIN}/logout`,
};
const USER_KEY = `oidc.user:${COGNITO.issuer}:${COGNITO.clientId}`;
const SUB = "0d5a4f3e-1111-4222-8333-444455556666";
const START = Date.UTC(2025, 0, 1, 12);
const HOUR_S = 3600;

const nowSeconds = () => Math.floor(Date.now() / 1000);

function accessToken(serial: number, lifetime = HOUR_S): string {
  const iat = nowSeconds();
  return fakeJwt({ sub: SUB, client_id: COGNITO.clientId, token_use: "access", iat, exp: iat + lifetime, jti: `${serial}` });
}

function idToken(claims: Record<string, unknown> = {}): string {
  const iat = nowSeconds();
  return fakeJwt({ sub: SUB, aud: COGNITO.clientId, iss: COGNITO.issuer, token_use: "id", name: "Alice", iat, exp: iat + HOUR_S, ...claims });
}

/** Cognito's token endpoint: numbered access tokens; a refresh answer has no refresh_token (no rotation). */
function cognitoServer(options: { refresh?: () => Response | Promise<Response> } = {}) {
  let issued = 0;
  const fetch = fakeFetch({
    [COGNITO.tokenEndpoint]: async (request) => {
      const form = new URLSearchParams(request.body);
      await settle(); // an answer takes a while: concurrent callers overlap
      if (form.get("grant_type") === "refresh_token" && options.refresh) return options.refresh();
      issued += 1;
      return json({
        access_token: accessToken(issued),
        id_token: idToken(),
        token_type: "Bearer",
        expires_in: HOUR_S,
        ...(form.get("grant_type") === "authorization_code" ? { refresh_token: "refresh-1" } : {}),
      });
    },
    [`${LOGIN}/oauth2/revoke`]: () => new Response(null, { status: 200 }),
  });
  const tokenRequests = (grant: string) =>
    fetch.requests.filter((r) => r.url === COGNITO.tokenEndpoint && new URLSearchParams(r.body).get("grant_type") === grant);
  return { fetch, tokenRequests };
}

/** One browser: tabs share localStorage, the lock manager and BroadcastChannel. */
function browser() {
  const storage = new MemoryStorage();
  const locks = new FakeLocks();
  const hub = new ChannelHub();
  const tab = (config: CognitoAuthConfig | OidcAuthConfig = COGNITO, href = COGNITO.redirectUri) => {
    const navigate = vi.fn<(url: string) => void>();
    const replaceUrl = vi.fn<(url: string) => void>();
    const location = { href };
    const env: Partial<AuthEnv> = {
      storage,
      tabStorage: new MemoryStorage(),
      locks,
      openChannel: hub.open,
      location,
      navigate,
      replaceUrl,
      loadOidc: vi.fn(() => import("oidc-client-ts")),
    };
    return { auth: createAuth(config, env), navigate, replaceUrl, location, env };
  };
  return { storage, locks, tab };
}

/** A signed-in user as oidc-client-ts stores it, its access token expiring `expiresIn` seconds from now. */
function storeUser(storage: Storage, expiresIn: number, refreshToken: string | null = "refresh-1"): string {
  const token = accessToken(0);
  const user = new User({
    access_token: token,
    id_token: idToken(),
    refresh_token: refreshToken ?? undefined,
    token_type: "Bearer",
    scope: "openid profile email",
    profile: { sub: SUB, name: "Alice", iss: COGNITO.issuer, aud: COGNITO.clientId, exp: 0, iat: 0 },
    expires_at: nowSeconds() + expiresIn,
  });
  storage.setItem(USER_KEY, user.toStorageString());
  return token;
}

const storedAccessToken = (storage: Storage) =>
  (JSON.parse(storage.getItem(USER_KEY) ?? "null") as { access_token?: string } | null)?.access_token;

let server: ReturnType<typeof cognitoServer>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(START);
  server = cognitoServer();
  vi.stubGlobal("fetch", server.fetch); // oidc-client-ts calls the global fetch
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function useServer(next: ReturnType<typeof cognitoServer>) {
  server = next;
  vi.stubGlobal("fetch", next.fetch);
}

describe("Cognito sign-in", () => {
  it("redirects to the managed login with the authorization code flow and PKCE, without a discovery request", async () => {
    const { tab } = browser();
    const { auth, navigate } = tab();
    expect(await auth.signIn()).toBeNull();
    expect(navigate).toHaveBeenCalledOnce();
    const url = new URL(navigate.mock.calls[0]![0]);
    expect(`${url.origin}${url.pathname}`).toBe(COGNITO.authorizationEndpoint);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("client_id")).toBe(COGNITO.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(COGNITO.redirectUri);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(server.fetch.requests).toEqual([]);
  });

  it("never asks Cognito for offline_access (it refuses it), even when the config lists it", async () => {
    const { tab } = browser();
    const { auth, navigate } = tab();
    await auth.signIn();
    const scopes = new URL(navigate.mock.calls[0]![0]).searchParams.get("scope")!.split(" ");
    expect(scopes).toEqual(["openid", "profile", "email"]);
    expect(scopes).not.toContain("offline_access");
  });

  it("finishes the redirect: exchanges the code, names the user from the ID token, cleans the URL", async () => {
    const { tab, storage } = browser();
    const first = tab();
    await first.auth.signIn();
    const state = new URL(first.navigate.mock.calls[0]![0]).searchParams.get("state")!;

    const back = tab(COGNITO, `${COGNITO.redirectUri}?code=abc123&state=${state}`);
    expect(await back.auth.init()).toEqual({ id: SUB, name: "Alice" });
    expect(back.replaceUrl).toHaveBeenCalledExactlyOnceWith(COGNITO.redirectUri);
    const [exchange] = server.tokenRequests("authorization_code");
    const form = new URLSearchParams(exchange!.body);
    expect(form.get("code")).toBe("abc123");
    expect(form.get("code_verifier")).toMatch(/^[\w-]{43,128}$/);
    expect(JSON.parse(storage.getItem(USER_KEY)!)).toMatchObject({ refresh_token: "refresh-1" });
    expect(await back.auth.getAccessToken()).toBe(storedAccessToken(storage));
    expect(back.auth.lastError).toBeNull();
  });

  it("cleans a failed callback from the URL and reports why (e.g. cancelled)", async () => {
    const { tab } = browser();
    const back = tab(COGNITO, `${COGNITO.redirectUri}?error=access_denied&error_description=cancelled&state=unknown`);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expect(await back.auth.init()).toBeNull();
    expect(back.replaceUrl).toHaveBeenCalledExactlyOnceWith(COGNITO.redirectUri);
    expect(back.auth.lastError).toBeTruthy();
  });
});

describe("Cognito tokens", () => {
  it("uses the refresh token at page load when the stored access token has already expired", async () => {
    const { tab, storage } = browser();
    const expired = storeUser(storage, -600); // the app was closed for longer than the token lives
    const { auth } = tab();
    expect(await auth.init()).toEqual({ id: SUB, name: "Alice" });
    const [refresh] = server.tokenRequests("refresh_token");
    const form = new URLSearchParams(refresh!.body);
    expect(form.get("refresh_token")).toBe("refresh-1");
    expect(form.get("client_id")).toBe(COGNITO.clientId);
    expect(form.get("scope") ?? "").not.toContain("offline_access");
    const token = await auth.getAccessToken();
    expect(token).not.toBe(expired);
    expect(token).toBe(storedAccessToken(storage));
    // Cognito does not rotate here: the refresh token is kept for the next time.
    expect(JSON.parse(storage.getItem(USER_KEY)!)).toMatchObject({ refresh_token: "refresh-1" });
    expect(server.fetch.requests.map((r) => r.url)).toEqual([COGNITO.tokenEndpoint]); // no discovery
  });

  it("refreshes when the token expires within 60 s, not before", async () => {
    const { tab, storage } = browser();
    const current = storeUser(storage, 61);
    const { auth } = tab();
    expect(await auth.getAccessToken()).toBe(current);
    expect(server.tokenRequests("refresh_token")).toHaveLength(0);
    vi.setSystemTime(START + 2000);
    expect(await auth.getAccessToken()).not.toBe(current);
    expect(server.tokenRequests("refresh_token")).toHaveLength(1);
  });

  it("two tabs forcing a refresh at once make one refresh request, and both get the new token", async () => {
    const { tab, storage, locks } = browser();
    storeUser(storage, HOUR_S);
    const [one, two] = [tab(), tab()];
    const changed = [vi.fn(), vi.fn()];
    one.auth.onTokenChanged(changed[0]!);
    two.auth.onTokenChanged(changed[1]!);

    const tokens = await Promise.all([
      one.auth.getAccessToken({ forceRefresh: true }),
      two.auth.getAccessToken({ forceRefresh: true }),
    ]);
    await settle();

    expect(server.tokenRequests("refresh_token")).toHaveLength(1);
    expect(locks.requests).toBe(2); // both waited for the lock; the second found the first's token
    expect(tokens[0]).toBe(storedAccessToken(storage));
    expect(tokens[1]).toBe(tokens[0]);
    // onTokenChanged fires in the tab that refreshed and, through the BroadcastChannel, in the other one.
    expect(changed[0]).toHaveBeenCalledExactlyOnceWith(tokens[0]);
    expect(changed[1]).toHaveBeenCalledExactlyOnceWith(tokens[0]);
  });

  it("a refused refresh (invalid_grant) signs out every tab", async () => {
    useServer(cognitoServer({ refresh: () => json({ error: "invalid_grant" }, 400) }));
    const { tab, storage } = browser();
    storeUser(storage, 10);
    const [one, two] = [tab(), tab()];
    const signedOut = [vi.fn(), vi.fn()];
    one.auth.onSignedOut(signedOut[0]!);
    two.auth.onSignedOut(signedOut[1]!);

    await expect(one.auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
    await settle();
    expect(storage.getItem(USER_KEY)).toBeNull();
    expect(signedOut[0]).toHaveBeenCalledOnce();
    expect(signedOut[1]).toHaveBeenCalledOnce();
    await expect(two.auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
    expect(server.tokenRequests("refresh_token")).toHaveLength(1);
  });

  it("a token endpoint that cannot be reached keeps the session (transient)", async () => {
    useServer(cognitoServer({ refresh: () => Promise.reject(new TypeError("Failed to fetch")) }));
    const { tab, storage } = browser();
    storeUser(storage, -5);
    const { auth } = tab();
    const signedOut = vi.fn();
    auth.onSignedOut(signedOut);
    expect(await auth.init()).toEqual({ id: SUB, name: "Alice" });
    await expect(auth.getAccessToken()).rejects.toThrow("Failed to fetch");
    expect(signedOut).not.toHaveBeenCalled();
    expect(storage.getItem(USER_KEY)).not.toBeNull();
  });

  it("an expired session without a refresh token is signed out at load", async () => {
    const { tab, storage } = browser();
    storeUser(storage, -5, null);
    expect(await tab().auth.init()).toBeNull();
    expect(server.fetch.requests).toEqual([]);
  });
});

describe("Cognito sign-out", () => {
  it("goes to Cognito's own /logout with client_id and logout_uri (no id_token_hint), after revoking the refresh token", async () => {
    const { tab, storage } = browser();
    storeUser(storage, HOUR_S);
    const [one, other] = [tab(), tab()];
    const otherSignedOut = vi.fn();
    other.auth.onSignedOut(otherSignedOut);

    await one.auth.signOut();
    await settle();

    expect(one.navigate).toHaveBeenCalledExactlyOnceWith(
      `${LOGIN}/logout?client_id=client123&logout_uri=https%3A%2F%2Fd111.cloudfront.net%2F`,
    );
    expect(storage.getItem(USER_KEY)).toBeNull();
    const revoke = server.fetch.requests.find((r: RecordedRequest) => r.url === `${LOGIN}/oauth2/revoke`);
    expect(Object.fromEntries(new URLSearchParams(revoke!.body))).toEqual({
      token: "refresh-1",
      token_type_hint: "refresh_token",
      client_id: "client123",
    });
    expect(otherSignedOut).toHaveBeenCalledOnce();
  });

  it("builds the logout URL exactly as Cognito wants it", () => {
    expect(cognitoLogoutUrl(COGNITO)).toBe(
      "https://chat-1.auth.us-east-1.amazoncognito.com/logout?client_id=client123&logout_uri=https%3A%2F%2Fd111.cloudfront.net%2F",
    );
  });
});

describe("OIDC mode", () => {
  const OIDC: OidcAuthConfig = {
    mode: "oidc",
    clientId: "web",
    issuer: "https://id.example.com/realms/chat",
    scopes: ["openid", "profile", "offline_access"],
    redirectUri: "https://chat.example.com/",
  };

  it("finds the endpoints in the issuer's discovery document and keeps its scopes as given", async () => {
    useServer({
      fetch: fakeFetch({
        [`${OIDC.issuer}/.well-known/openid-configuration`]: () =>
          json({ issuer: OIDC.issuer, authorization_endpoint: `${OIDC.issuer}/auth`, token_endpoint: `${OIDC.issuer}/token` }),
      }),
      tokenRequests: () => [],
    });
    const { tab } = browser();
    const { auth, navigate } = tab(OIDC, OIDC.redirectUri);
    await auth.signIn();
    const url = new URL(navigate.mock.calls[0]![0]);
    expect(`${url.origin}${url.pathname}`).toBe(`${OIDC.issuer}/auth`);
    expect(url.searchParams.get("scope")).toBe("openid profile offline_access");
    expect(server.fetch.requests.map((r) => r.url)).toEqual([`${OIDC.issuer}/.well-known/openid-configuration`]);
  });

  const oidcUser = (storage: Storage) => {
    const user = new User({
      access_token: accessToken(0),
      id_token: "the-id-token",
      refresh_token: "refresh-1",
      token_type: "Bearer",
      profile: { sub: SUB, name: "Alice", iss: OIDC.issuer, aud: OIDC.clientId, exp: 0, iat: 0 },
      expires_at: nowSeconds() + HOUR_S,
    });
    storage.setItem(`oidc.user:${OIDC.issuer}:${OIDC.clientId}`, user.toStorageString());
  };
  const discovery = (extra: Record<string, string>) =>
    useServer({
      fetch: fakeFetch({
        [`${OIDC.issuer}/.well-known/openid-configuration`]: () =>
          json({ issuer: OIDC.issuer, authorization_endpoint: `${OIDC.issuer}/auth`, ...extra }),
      }),
      tokenRequests: () => [],
    });

  it("signs out through the issuer's end_session_endpoint (standard RP-initiated logout)", async () => {
    discovery({ end_session_endpoint: `${OIDC.issuer}/logout` });
    const { tab, storage } = browser();
    oidcUser(storage);
    const { auth, navigate } = tab(OIDC, OIDC.redirectUri);
    expect(await auth.init()).toEqual({ id: SUB, name: "Alice" });
    await auth.signOut();
    const url = new URL(navigate.mock.calls[0]![0]);
    expect(`${url.origin}${url.pathname}`).toBe(`${OIDC.issuer}/logout`);
    expect(url.searchParams.get("id_token_hint")).toBe("the-id-token");
    expect(url.searchParams.get("post_logout_redirect_uri")).toBe(OIDC.redirectUri);
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
  });

  it("signs out locally when the issuer has no end_session_endpoint", async () => {
    discovery({});
    const { tab, storage } = browser();
    oidcUser(storage);
    const { auth, navigate } = tab(OIDC, OIDC.redirectUri);
    await auth.signOut();
    expect(navigate).not.toHaveBeenCalled();
    await expect(auth.getAccessToken()).rejects.toBeInstanceOf(SignedOutError);
  });
});

describe("display name", () => {
  const profile = { sub: SUB, iss: "", aud: "", exp: 0, iat: 0 };
  it("is the ID token's name, else preferred_username, else email, else the sub", () => {
    expect(displayUser({ profile: { ...profile, name: "Alice", email: "a@x" } })).toEqual({ id: SUB, name: "Alice" });
    expect(displayUser({ profile: { ...profile, preferred_username: "al", email: "a@x" } })).toEqual({ id: SUB, name: "al" });
    expect(displayUser({ profile: { ...profile, email: "a@x" } })).toEqual({ id: SUB, name: "a@x" });
    expect(displayUser({ profile })).toEqual({ id: SUB, name: SUB });
  });
});

describe("lazy loading", () => {
  it("dev mode never loads oidc-client-ts; Cognito loads it only when first needed", async () => {
    const { tab } = browser();
    const { auth, env } = tab();
    expect(env.loadOidc).not.toHaveBeenCalled();
    await auth.init();
    expect(env.loadOidc).toHaveBeenCalledOnce();
    await auth.getAccessToken().catch(() => undefined);
    expect(env.loadOidc).toHaveBeenCalledOnce();

    const loadOidc = vi.fn(() => import("oidc-client-ts"));
    const dev: Auth = createAuth(
      { mode: "dev", tokenUrl: "/auth/token", refreshUrl: "/auth/refresh" },
      { ...env, fetch: fakeFetch({}), loadOidc },
    );
    await dev.init();
    await dev.signIn("Alice").catch(() => undefined);
    expect(loadOidc).not.toHaveBeenCalled();
  });

  it("no module but oidc.ts's types and env.ts's dynamic import() names oidc-client-ts", async () => {
    const sources = import.meta.glob(["./*.ts", "!./*.test.ts", "!./*.test-support.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    });
    expect(Object.keys(sources)).toContain("./index.ts");
    for (const [path, text] of Object.entries(sources)) {
      const staticImports = String(text).match(/^import\s+(?!type\b)[^;]*from\s+"oidc-client-ts"/gm) ?? [];
      expect(staticImports, path).toEqual([]);
    }
  });
});
