/** Dev mode: the local stack's identity provider (sign in by name at tokenUrl, refresh at refreshUrl). */

import type { DevAuthConfig } from "./config";
import type { AuthEnv } from "./env";
import type { Auth } from "./index";
import { createSessionKeeper, type Session, type SessionBackend, type SignedInUser, SignedOutError } from "./session";

/**
 * Kept in the tab's sessionStorage: a reload keeps the session, and two tabs of one browser can be two people
 * (the README's two-tab walkthrough). Dev refresh tokens are stateless JWTs, so tabs need not coordinate.
 */
export const DEV_SESSION_KEY = "chat.auth.dev";
const REQUEST_TIMEOUT_MS = 15_000;

interface StoredSession extends Session {
  idToken: string;
  refreshToken: string;
}

/** The identity provider's answer to /auth/token and /auth/refresh. */
interface TokenResponse {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  expiresIn: number;
  user: SignedInUser;
}

export function createDevAuth(config: DevAuthConfig, env: AuthEnv): Auth {
  const storage = env.tabStorage;

  const read = (): StoredSession | null => {
    const text = storage.getItem(DEV_SESSION_KEY);
    if (!text) return null;
    try {
      const stored = JSON.parse(text) as Partial<StoredSession>;
      const valid =
        typeof stored.accessToken === "string" &&
        typeof stored.refreshToken === "string" &&
        typeof stored.expiresAt === "number" &&
        typeof stored.user?.id === "string" &&
        typeof stored.user.name === "string";
      return valid ? (stored as StoredSession) : null;
    } catch {
      return null; // not ours, or from an older version: sign in again
    }
  };

  const store = (tokens: TokenResponse): StoredSession => {
    const session: StoredSession = {
      accessToken: tokens.accessToken,
      idToken: tokens.idToken,
      refreshToken: tokens.refreshToken,
      expiresAt: env.now() + tokens.expiresIn * 1000,
      lifetimeMs: tokens.expiresIn * 1000,
      user: { id: tokens.user.id, name: tokens.user.name },
    };
    storage.setItem(DEV_SESSION_KEY, JSON.stringify(session));
    return session;
  };

  const post = async (url: string, body: object): Promise<Response> =>
    env.fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      // Refreshes hold the refresh lock: a request that hangs must not hold it forever.
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });

  const backend: SessionBackend = {
    read: async () => read(),
    async refresh() {
      const current = read();
      if (!current) throw new SignedOutError("Not signed in");
      const response = await post(config.refreshUrl, { refreshToken: current.refreshToken });
      // 400 invalid_grant (e.g. the stack restarted with a new key) or 401: this refresh token will never work.
      if (isRefusal(response.status)) throw new SignedOutError(await errorMessage(response, "Session expired"));
      if (!response.ok) throw new Error(await errorMessage(response, "Could not refresh the session"));
      return store(await tokenResponse(response));
    },
    clear: async () => storage.removeItem(DEV_SESSION_KEY),
  };

  const keeper = createSessionKeeper(backend, env, { crossTab: false });

  return {
    mode: "dev",
    init: () => keeper.restore(),
    async signIn(name) {
      const response = await post(config.tokenUrl, { name: name ?? "" });
      if (!response.ok) throw new Error(await errorMessage(response, "Could not sign in"));
      return store(await tokenResponse(response)).user;
    },
    async signOut() {
      storage.removeItem(DEV_SESSION_KEY);
    },
    getAccessToken: (options) => keeper.getAccessToken(options),
    onTokenChanged: (listener) => keeper.onTokenChanged(listener),
    onSignedOut: (listener) => keeper.onSignedOut(listener),
  };
}

/** A 4xx other than a timeout or a throttle: asking again with the same refresh token cannot succeed. */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

async function tokenResponse(response: Response): Promise<TokenResponse> {
  const body = (await response.json().catch(() => null)) as Partial<TokenResponse> | null;
  if (
    typeof body?.accessToken !== "string" ||
    typeof body.refreshToken !== "string" ||
    typeof body.expiresIn !== "number" ||
    typeof body.user?.id !== "string" ||
    typeof body.user.name !== "string"
  ) {
    throw new Error("The identity provider's answer has no tokens");
  }
  return { ...body, idToken: body.idToken ?? "" } as TokenResponse;
}

/** The provider's own message ({"error","message"}), else `fallback` with the HTTP status. */
async function errorMessage(response: Response, fallback: string): Promise<string> {
  const body = (await response.json().catch(() => null)) as { message?: unknown } | null;
  return typeof body?.message === "string" && body.message ? body.message : `${fallback} (HTTP ${response.status})`;
}
