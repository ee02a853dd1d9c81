/**
 * Sign-in for the chat: the local stack's dev provider (by name), Cognito managed login, or any OIDC issuer.
 * The app asks `getAccessToken()` for a token whenever it connects; this module keeps it fresh.
 */

import type { AuthConfig } from "./config";
import { createDevAuth } from "./dev";
import { type AuthEnv, resolveEnv } from "./env";
import { createOidcAuth } from "./oidc";
import type { SignedInUser } from "./session";

export type {
  AppConfig,
  AuthConfig,
  AuthMode,
  CognitoAuthConfig,
  DevAuthConfig,
  OidcAuthConfig,
} from "./config";
export { loadConfig, parseConfig } from "./config";
export type { AuthEnv, ChannelLike, LockManagerLike } from "./env";
export { SignedOutError, type SignedInUser } from "./session";

export interface Auth {
  readonly mode: "dev" | "cognito" | "oidc";
  /** Finishes a redirect sign-in if the URL carries one (code/state), restores a session otherwise. */
  init(): Promise<SignedInUser | null>;
  /** dev: sign in with a name; cognito/oidc: redirect to the hosted sign-in page (name ignored). */
  signIn(name?: string): Promise<SignedInUser | null>;
  /** Ends the session in every tab; cognito: then its non-standard /logout?client_id=&logout_uri=. */
  signOut(): Promise<void>;
  /**
   * A valid access token, refreshed first when it expires within 60 s or when forceRefresh (the server refused
   * it). Throws SignedOutError when there is no session or the refresh was refused (onSignedOut fires too);
   * any other error (network) is transient: ask again later.
   */
  getAccessToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /** Called after every refresh (this tab or another tab), with the new token. */
  onTokenChanged(listener: (token: string) => void): () => void;
  /** Called when the session is lost (refresh refused, or signed out in another tab): the app shows sign-in. */
  onSignedOut(listener: () => void): () => void;
  /** cognito/oidc: why the last redirect sign-in failed (e.g. cancelled), for the sign-in screen; else null. */
  readonly lastError?: string | null;
}

/** The sign-in of `config` (config.json's `auth`). `env` replaces browser features (tests). */
export function createAuth(config: AuthConfig, env: Partial<AuthEnv> = {}): Auth {
  const resolved = resolveEnv(env);
  return config.mode === "dev" ? createDevAuth(config, resolved) : createOidcAuth(config, resolved);
}
