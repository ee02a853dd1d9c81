/** `/config.json`: where the chat's WebSocket is and how to sign in (served beside the app, locally and on AWS). */

/** The local stack's identity provider: sign in by name, no password. */
export interface DevAuthConfig {
  mode: "dev";
  tokenUrl: string; // POST {name} -> tokens
  refreshUrl: string; // POST {refreshToken} -> tokens
}

/** The stack's own Cognito user pool and its managed login. Endpoints are given: no discovery request. */
export interface CognitoAuthConfig {
  mode: "cognito";
  clientId: string;
  issuer: string;
  scopes: string[];
  redirectUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  logoutEndpoint: string; // Cognito's own /logout (not OIDC RP-initiated logout)
}

/** Any OIDC issuer: endpoints come from its `/.well-known/openid-configuration`. */
export interface OidcAuthConfig {
  mode: "oidc";
  clientId: string;
  issuer: string;
  scopes: string[];
  redirectUri: string;
}

export type AuthConfig = DevAuthConfig | CognitoAuthConfig | OidcAuthConfig;
export type AuthMode = AuthConfig["mode"];

export interface AppConfig {
  websocketUrl: string; // ws:// or wss://; the protocol client appends ?token=
  auth: AuthConfig;
}

export const CONFIG_URL = "/config.json";

/** GET /config.json (never from a cache: a deploy may change it), validated. Throws an Error that says what is wrong. */
export async function loadConfig(
  options: { fetch?: typeof fetch; url?: string } = {},
): Promise<AppConfig> {
  const url = options.url ?? CONFIG_URL;
  const fetchConfig = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await fetchConfig(url, { cache: "no-store", headers: { Accept: "application/json" } });
  } catch (error) {
    throw new Error(`Could not load ${url}: ${describe(error)}`);
  }
  if (!response.ok) throw new Error(`Could not load ${url}: HTTP ${response.status}${await plainReason(response)}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new Error(`${url} is not valid JSON`);
  }
  return parseConfig(body, url);
}

/** The config if `value` has the documented shape (unknown fields are dropped); an Error naming the field otherwise. */
export function parseConfig(value: unknown, source = CONFIG_URL): AppConfig {
  const fail = (message: string): never => {
    throw new Error(`Invalid ${source}: ${message}`);
  };
  const top = record(value) ?? fail("expected a JSON object");
  const websocketUrl = url(top.websocketUrl, ["ws:", "wss:"]) ?? fail("websocketUrl must be a ws:// or wss:// URL");
  const auth = record(top.auth) ?? fail("auth must be an object");
  const text = (name: string): string =>
    nonEmpty(auth[name]) ?? fail(`auth.${name} must be a non-empty string (mode ${String(auth.mode)})`);
  const web = (name: string): string =>
    url(auth[name], ["https:", "http:"]) ?? fail(`auth.${name} must be an http(s) URL (mode ${String(auth.mode)})`);
  const scopes = (): string[] => {
    const list = auth.scopes;
    if (!Array.isArray(list) || list.length === 0 || !list.every((scope) => nonEmpty(scope) !== null)) {
      return fail("auth.scopes must be a non-empty array of strings");
    }
    if (!list.includes("openid")) fail('auth.scopes must include "openid"');
    return [...(list as string[])];
  };
  switch (auth.mode) {
    case "dev":
      return { websocketUrl, auth: { mode: "dev", tokenUrl: text("tokenUrl"), refreshUrl: text("refreshUrl") } };
    case "cognito":
      return {
        websocketUrl,
        auth: {
          mode: "cognito",
          clientId: text("clientId"),
          issuer: web("issuer"),
          scopes: scopes(),
          redirectUri: web("redirectUri"),
          authorizationEndpoint: web("authorizationEndpoint"),
          tokenEndpoint: web("tokenEndpoint"),
          logoutEndpoint: web("logoutEndpoint"),
        },
      };
    case "oidc":
      return {
        websocketUrl,
        auth: {
          mode: "oidc",
          clientId: text("clientId"),
          issuer: web("issuer"),
          scopes: scopes(),
          redirectUri: web("redirectUri"),
        },
      };
    default:
      return fail(`auth.mode must be "dev", "cognito" or "oidc" (got ${JSON.stringify(auth.mode) ?? "nothing"})`);
  }
}

/** A short text/plain body of an error answer (the dev server says why it has no config), as ": <text>". */
async function plainReason(response: Response): Promise<string> {
  if (!response.headers.get("Content-Type")?.startsWith("text/plain")) return "";
  try {
    const text = (await response.text()).trim();
    return text ? `: ${text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text}` : "";
  } catch {
    return "";
  }
}

const MAX_REASON = 300;

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function url(value: unknown, protocols: string[]): string | null {
  const text = nonEmpty(value);
  if (text === null || !URL.canParse(text)) return null;
  return protocols.includes(new URL(text).protocol) ? text : null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
