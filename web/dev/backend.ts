/**
 * Which stack `npm run dev` talks to. By default the local stack (`make dev`, 127.0.0.1:8080 or `CHAT_PORT`),
 * through Vite's proxy. With `CHAT_BACKEND=https://<WebUrl host>` a deployed stack: the dev server answers
 * `/config.json` itself with the deployed one, its `auth.redirectUri` pointed at the dev server, so that Cognito
 * (or the external issuer) sends the browser back here after sign-in. That origin must be registered on the app
 * client: `npx aws-cdk@2 deploy -c devOrigins=http://localhost:5173`.
 *
 * The decisions are plain functions (tested in backend.test.ts); `deployedConfigPlugin` wires them into Vite.
 * No Node types: the project has none, and the dev server's request and response are used through a small shape.
 */

import type { Plugin } from "vite";
import { type AppConfig, parseConfig } from "../src/auth/config.ts";

export const LOCAL_STACK_PORT = 8080;
const FETCH_TIMEOUT_MS = 10_000;

/** The deployed site from `CHAT_BACKEND`: an https URL (the stack's `WebUrl`), as a base ending with `/`. */
export function deployedSite(value: string): URL {
  const text = value.trim();
  const fail = (why: string): never => {
    throw new Error(`CHAT_BACKEND must be the deployed stack's WebUrl (https://<host>/): ${why} (got ${JSON.stringify(value)})`);
  };
  if (!URL.canParse(text)) fail("not a URL");
  const url = new URL(text);
  if (url.protocol !== "https:") fail("https only");
  if (url.username || url.password || url.search || url.hash) fail("no credentials, query or fragment");
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/** Where Vite proxies `/config.json` and `/auth` without `CHAT_BACKEND`: the local stack on `CHAT_PORT`. */
export function localStackUrl(port: string | undefined): string {
  const text = port?.trim() || String(LOCAL_STACK_PORT);
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < 1 || number > 65535) {
    throw new Error(`CHAT_PORT must be the local stack's port, 1-65535 (got ${JSON.stringify(port)})`);
  }
  return `http://127.0.0.1:${number}`;
}

/** The page's origin as the browser sees it, from the request's Host header. */
export function requestOrigin(host: string | undefined, secure: boolean, fallback: string): string {
  return host ? `${secure ? "https" : "http"}://${host}` : fallback;
}

/** The deployed config, checked as the app checks it, with its sign-in redirect (and Cognito's logout_uri) at `origin`. */
export function withRedirectTo(deployed: unknown, origin: string, source: string): AppConfig {
  const config = parseConfig(deployed, source);
  if (config.auth.mode === "dev") {
    throw new Error(`${source} is a local stack's config (sign-in by name): CHAT_BACKEND is for a deployed stack`);
  }
  return { ...config, auth: { ...config.auth, redirectUri: new URL("/", origin).href } };
}

export interface ConfigAnswer {
  status: number;
  contentType: string;
  body: string;
  error?: string; // for the dev server's terminal
}

/** What the dev server answers to `GET /config.json`: the rewritten config, or a 502 whose text says what failed. */
export async function deployedConfig(
  site: URL,
  origin: string,
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): Promise<ConfigAnswer> {
  const url = new URL("config.json", site).href;
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { Accept: "application/json" },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`could not fetch ${url}: ${describe(error)}`);
    }
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new Error(`${url} is not JSON: is CHAT_BACKEND the stack's WebUrl?`);
    }
    const config = withRedirectTo(body, origin, url);
    return { status: 200, contentType: "application/json", body: JSON.stringify(config) };
  } catch (error) {
    const message = `CHAT_BACKEND: ${describe(error)}`;
    return { status: 502, contentType: "text/plain; charset=utf-8", body: message, error: message };
  }
}

/** The few members of Node's request and response the middleware uses. */
interface DevRequest {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
}
interface DevResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** A dev-server-only plugin: `/config.json` from the deployed site at `site`, redirecting sign-in to the dev server. */
export function deployedConfigPlugin(site: URL): Plugin {
  return {
    name: "chat-deployed-config",
    apply: "serve",
    configureServer(server) {
      const { https, port } = server.config.server;
      const fallback = `${https ? "https" : "http"}://localhost:${port}`;
      server.config.logger.info(
        `\n  /config.json from ${new URL("config.json", site).href}, sign-in redirected to this server ` +
          `(register it once: npx aws-cdk@2 deploy -c devOrigins=${fallback})`,
      );
      server.middlewares.use("/config.json", (incoming, outgoing, next) => {
        // Node's IncomingMessage and ServerResponse, whose types this project does not have.
        const req = incoming as unknown as DevRequest;
        const res = outgoing as unknown as DevResponse;
        if (req.method !== "GET" && req.method !== "HEAD") return next();
        const host = req.headers.host;
        const origin = requestOrigin(typeof host === "string" ? host : undefined, Boolean(https), fallback);
        void deployedConfig(site, origin).then((answer) => {
          if (answer.error) server.config.logger.error(answer.error, { timestamp: true });
          res.statusCode = answer.status;
          res.setHeader("Content-Type", answer.contentType);
          res.setHeader("Cache-Control", "no-store");
          res.end(req.method === "HEAD" ? undefined : answer.body);
        });
      });
    },
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch() hides the reason (DNS, refused, TLS) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
