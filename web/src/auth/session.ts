/** The token logic both modes share: refresh ahead of expiry, one refresh at a time across tabs, listeners. */

import { type AuthEnv, type ChannelLike, createLocalLock, Listeners } from "./env";

export interface SignedInUser {
  id: string;
  name: string;
}

/** There is no session, or the identity provider refused to refresh it: the user must sign in again. */
export class SignedOutError extends Error {
  override readonly name = "SignedOutError";
}

/** What a mode keeps for a signed-in user. */
export interface Session {
  accessToken: string;
  expiresAt: number; // epoch ms
  lifetimeMs: number | null; // the access token's full lifetime, when known
  user: SignedInUser;
}

/** How a mode stores and refreshes its session. */
export interface SessionBackend {
  read(): Promise<Session | null>;
  /** New tokens from the refresh token. Throws SignedOutError when refused; any other error is transient. */
  refresh(): Promise<Session>;
  clear(): Promise<void>;
}

/** Refresh when the token expires within this; less for tokens that live under two minutes. */
export const REFRESH_MARGIN_MS = 60_000;
/** The Web Locks name every tab refreshes under. */
export const REFRESH_LOCK = "chat-token-refresh";
/** The BroadcastChannel name the tabs tell each other about new tokens and sign-outs on. */
export const AUTH_CHANNEL = "chat-auth";

type CrossTabMessage = { type: "tokenChanged" } | { type: "signedOut" };

export interface SessionKeeper {
  /** The session, refreshed first if it is about to expire; null if there is none or it was refused. */
  restore(): Promise<SignedInUser | null>;
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  onTokenChanged(listener: (token: string) => void): () => void;
  onSignedOut(listener: () => void): () => void;
  /** The session was ended here (sign-out): tell the other tabs. */
  announceSignedOut(): void;
}

export function createSessionKeeper(
  backend: SessionBackend,
  env: AuthEnv,
  options: { crossTab: boolean },
): SessionKeeper {
  const tokenChanged = new Listeners<[string]>();
  const signedOut = new Listeners<[]>();
  const locks = env.locks ?? createLocalLock();
  const channel: ChannelLike | null = options.crossTab && env.openChannel ? env.openChannel(AUTH_CHANNEL) : null;
  let inFlight: Promise<Session> | null = null;

  channel?.addEventListener("message", ({ data }) => {
    const message = data as Partial<CrossTabMessage> | null;
    if (message?.type === "signedOut") signedOut.emit();
    if (message?.type === "tokenChanged") {
      // Another tab refreshed: the new tokens are in the shared storage.
      void backend.read().then(
        (session) => session && tokenChanged.emit(session.accessToken),
        () => undefined,
      );
    }
  });

  const isFresh = (session: Session): boolean => {
    const margin = Math.min(REFRESH_MARGIN_MS, (session.lifetimeMs ?? Infinity) / 2);
    return session.expiresAt - env.now() > margin;
  };

  /**
   * One refresh at a time across the tabs: a refresh token may be rotated or revoked when used, so two tabs
   * refreshing with the same one can sign one of them out. Under the lock, the stored session is read again:
   * if another tab refreshed while this one waited, its tokens are used and no request is made.
   */
  const refresh = (staleToken: string | null): Promise<Session> => {
    inFlight ??= locks
      .request(REFRESH_LOCK, async () => {
        const current = await backend.read();
        if (!current) throw new SignedOutError("Not signed in");
        const refreshedElsewhere = staleToken === null || current.accessToken !== staleToken;
        if (refreshedElsewhere && isFresh(current)) return { session: current, refreshed: false };
        try {
          return { session: await backend.refresh(), refreshed: true };
        } catch (error) {
          if (error instanceof SignedOutError) await backend.clear();
          throw error;
        }
      })
      .then(
        ({ session, refreshed }) => {
          if (refreshed) {
            channel?.postMessage({ type: "tokenChanged" } satisfies CrossTabMessage);
            tokenChanged.emit(session.accessToken);
          }
          return session;
        },
        (error: unknown) => {
          if (error instanceof SignedOutError) {
            channel?.postMessage({ type: "signedOut" } satisfies CrossTabMessage);
            signedOut.emit();
          }
          throw error;
        },
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };

  return {
    async restore() {
      const session = await backend.read();
      if (!session) return null;
      if (isFresh(session)) return session.user;
      try {
        return (await refresh(null)).user;
      } catch (error) {
        if (error instanceof SignedOutError) return null;
        // The identity provider is unreachable: keep the session, getAccessToken tries again later.
        return session.user;
      }
    },

    async getAccessToken({ forceRefresh = false } = {}) {
      const session = await backend.read();
      if (!session) throw new SignedOutError("Not signed in");
      if (!forceRefresh && isFresh(session)) return session.accessToken;
      try {
        // forceRefresh: this token was refused; a different, fresh one (from another tab) is as good as a new one.
        return (await refresh(forceRefresh ? session.accessToken : null)).accessToken;
      } catch (error) {
        // The identity provider is unreachable but the token has not expired yet: it still opens a connection.
        const usable = !forceRefresh && !(error instanceof SignedOutError) && session.expiresAt > env.now();
        if (usable) return session.accessToken;
        throw error;
      }
    },

    onTokenChanged: (listener) => tokenChanged.add(listener),
    onSignedOut: (listener) => signedOut.add(listener),
    announceSignedOut: () => channel?.postMessage({ type: "signedOut" } satisfies CrossTabMessage),
  };
}

/** The lifetime (exp - iat) of a JWT in ms, when it carries both; the signature is not checked (not ours to). */
export function jwtLifetimeMs(token: string): number | null {
  const claims = jwtClaims(token);
  const { exp, iat } = claims ?? {};
  return typeof exp === "number" && typeof iat === "number" && exp > iat ? (exp - iat) * 1000 : null;
}

export function jwtClaims(token: string): Record<string, unknown> | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
