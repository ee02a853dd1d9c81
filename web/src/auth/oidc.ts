/**
 * Cognito managed login and any OIDC issuer, through oidc-client-ts (authorization code with PKCE). The library
 * is only imported here, and only with a dynamic import(): the dev mode and the first screen never load it.
 */

import type { INavigator, User, UserManager, UserManagerSettings } from "oidc-client-ts";
import type { CognitoAuthConfig, OidcAuthConfig } from "./config";
import type { AuthEnv } from "./env";
import type { Auth } from "./index";
import {
  createSessionKeeper,
  jwtLifetimeMs,
  type Session,
  type SessionBackend,
  type SignedInUser,
  SignedOutError,
} from "./session";

type RedirectConfig = CognitoAuthConfig | OidcAuthConfig;

/** The query parameters an authorization server adds to the redirect URI. */
const CALLBACK_PARAMS = ["code", "state", "session_state", "iss", "error", "error_description", "error_uri"];
const REVOKE_TIMEOUT_MS = 3000;

export function createOidcAuth(config: RedirectConfig, env: AuthEnv): Auth {
  let manager: Promise<UserManager> | null = null;
  const userManager = (): Promise<UserManager> =>
    (manager ??= env.loadOidc().then((oidc) => {
      const settings = userManagerSettings(config, env, oidc.WebStorageStateStore);
      return new oidc.UserManager(settings, redirectNavigator(env));
    }));

  const backend: SessionBackend = {
    read: async () => toSession(await (await userManager()).getUser()),
    async refresh() {
      const users = await userManager();
      // signinSilent() reads the stored user again and, when it has a refresh token, uses the refresh_token
      // grant (no iframe). Without one there is nothing to refresh with.
      const stored = await users.getUser();
      if (!stored?.refresh_token) throw new SignedOutError("Session expired");
      let user: User | null;
      try {
        user = await users.signinSilent();
      } catch (error) {
        // An OAuth error answer (invalid_grant: expired, revoked or already rotated): the session is over.
        // A network failure, a timeout or a server error is not: the caller tries again later.
        if (isRefusal(error)) throw new SignedOutError(`Session expired (${error.error})`);
        throw error;
      }
      const session = toSession(user);
      if (!session) throw new SignedOutError("Session expired");
      return session;
    },
    clear: async () => (await userManager()).removeUser(),
  };

  const keeper = createSessionKeeper(backend, env, { crossTab: true });
  let lastError: string | null = null;

  return {
    mode: config.mode,
    get lastError() {
      return lastError;
    },

    async init() {
      const users = await userManager();
      void users.clearStaleState().catch(() => undefined); // sign-ins abandoned on the hosted page
      const url = new URL(env.location.href);
      const params = url.searchParams;
      if (params.has("state") && (params.has("code") || params.has("error"))) {
        // Drop ?code=&state= from the address bar whatever happens: a reload must not replay a used code.
        const callbackUrl = url.href;
        for (const name of CALLBACK_PARAMS) params.delete(name);
        env.replaceUrl(url.href);
        try {
          const user = await users.signinCallback(callbackUrl);
          lastError = null;
          if (user) return toSession(user)?.user ?? null;
        } catch (error) {
          // Cancelled on the sign-in page, or a stale callback URL (reload, back button): keep what we have.
          lastError = describe(error);
          console.warn("auth: the sign-in redirect failed:", lastError);
        }
      }
      return keeper.restore();
    },

    async signIn() {
      // Redirects to the hosted sign-in page; this page unloads, and init() finishes on the way back.
      await (await userManager()).signinRedirect();
      return null;
    },

    async signOut() {
      const users = await userManager();
      const user = await users.getUser();
      if (config.mode === "cognito") {
        // Cognito pitfall 1: its /logout is not OIDC RP-initiated logout (no end_session_endpoint, no
        // id_token_hint, no post_logout_redirect_uri): it wants client_id and a logout_uri registered on the app
        // client. The refresh token is revoked first (best effort): /logout only ends the managed-login cookie.
        await revokeRefreshToken(users, user);
        await users.removeUser();
        keeper.announceSignedOut();
        env.navigate(cognitoLogoutUrl(config));
        return;
      }
      keeper.announceSignedOut();
      try {
        // Standard RP-initiated logout when the issuer has an end_session_endpoint (removes the stored user).
        await users.signoutRedirect({ id_token_hint: user?.id_token, post_logout_redirect_uri: config.redirectUri });
      } catch {
        await users.removeUser(); // no end_session_endpoint: signed out here only
      }
    },

    getAccessToken: (options) => keeper.getAccessToken(options),
    onTokenChanged: (listener) => keeper.onTokenChanged(listener),
    onSignedOut: (listener) => keeper.onSignedOut(listener),
  };
}

/** Cognito's sign-out URL: `/logout?client_id=...&logout_uri=...`, the logout_uri one of the app client's. */
export function cognitoLogoutUrl(config: CognitoAuthConfig): string {
  const url = new URL(config.logoutEndpoint);
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("logout_uri", config.redirectUri);
  return url.href;
}

/** The scopes to request: Cognito's are the config's without offline_access. */
export function requestedScopes(config: RedirectConfig): string[] {
  // Cognito pitfall 2: Cognito refuses offline_access (invalid_scope) and issues a refresh token with every
  // authorization-code sign-in anyway. Other issuers may need it for a refresh token: theirs is kept as given.
  return config.mode === "cognito" ? config.scopes.filter((scope) => scope !== "offline_access") : config.scopes;
}

export function userManagerSettings(
  config: RedirectConfig,
  env: AuthEnv,
  WebStorageStateStore: typeof import("oidc-client-ts").WebStorageStateStore,
): UserManagerSettings {
  const settings: UserManagerSettings = {
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    post_logout_redirect_uri: config.redirectUri,
    response_type: "code", // authorization code; oidc-client-ts adds PKCE (S256)
    scope: requestedScopes(config).join(" "),
    // localStorage: every tab shares the user (and its refresh token); the sign-in state survives the redirect.
    userStore: new WebStorageStateStore({ store: env.storage }),
    stateStore: new WebStorageStateStore({ store: env.storage }),
    // Cognito pitfall 3: automaticSilentRenew only renews a token that is still valid, on a timer, in every tab
    // at once; a token that expired while the app was closed is never renewed by it. getAccessToken() refreshes
    // instead, when the token expires within a minute, under a cross-tab lock.
    automaticSilentRenew: false,
    monitorSession: false, // Cognito has no check_session_iframe
    loadUserInfo: false, // the ID token has the name
    requestTimeoutInSeconds: 15,
  };
  if (config.mode === "cognito") {
    // The endpoints are in the config: no request for a discovery document. Cognito's OIDC metadata lives on the
    // issuer (cognito-idp), its OAuth endpoints on the managed-login domain. No end_session_endpoint: see signOut.
    settings.metadata = {
      issuer: config.issuer,
      authorization_endpoint: config.authorizationEndpoint,
      token_endpoint: config.tokenEndpoint,
      revocation_endpoint: config.tokenEndpoint.replace(/\/token$/, "/revoke"),
      userinfo_endpoint: config.tokenEndpoint.replace(/\/token$/, "/userInfo"),
      jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    };
  }
  return settings;
}

/** oidc-client-ts's redirects through env.navigate (the default navigator reaches for `window` itself). */
function redirectNavigator(env: AuthEnv): INavigator {
  return {
    prepare: async () => ({
      navigate: async ({ url }) => {
        env.navigate(url);
        return { url: env.location.href };
      },
      close: () => undefined,
    }),
    callback: async () => undefined,
  };
}

function toSession(user: User | null): Session | null {
  if (!user?.access_token || user.expires_at === undefined) return null;
  return {
    accessToken: user.access_token,
    expiresAt: user.expires_at * 1000,
    lifetimeMs: jwtLifetimeMs(user.access_token),
    user: displayUser(user),
  };
}

/** The user as the app shows them: `sub`, and the ID token's name (else preferred_username, else email). */
export function displayUser(user: Pick<User, "profile">): SignedInUser {
  const profile = user.profile;
  const name = [profile.name, profile.preferred_username, profile.email].find(
    (value): value is string => typeof value === "string" && value.trim() !== "",
  );
  return { id: profile.sub, name: name ?? profile.sub };
}

async function revokeRefreshToken(users: UserManager, user: User | null): Promise<void> {
  if (!user?.refresh_token) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, REVOKE_TIMEOUT_MS);
  });
  try {
    await Promise.race([users.revokeTokens(["refresh_token"]), timeout]);
  } catch (error) {
    console.warn("auth: could not revoke the refresh token:", describe(error));
  } finally {
    clearTimeout(timer);
  }
}

/** oidc-client-ts's ErrorResponse for an OAuth error answer that asking again cannot fix (RFC 6749 5.2). */
function isRefusal(error: unknown): error is Error & { error: string } {
  const code = error instanceof Error ? (error as { error?: unknown }).error : undefined;
  return typeof code === "string" && code !== "server_error" && code !== "temporarily_unavailable";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
