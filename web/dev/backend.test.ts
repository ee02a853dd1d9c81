import { describe, expect, it } from "vitest";
import { deployedConfig, deployedSite, localStackUrl, requestOrigin, withRedirectTo } from "./backend.ts";

const SITE = "https://d111.cloudfront.net/";
const WSS = "wss://abc.execute-api.us-east-1.amazonaws.com/live";
const COGNITO = {
  websocketUrl: WSS,
  auth: {
    mode: "cognito",
    clientId: "client123",
    issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
    scopes: ["openid", "profile", "email"],
    redirectUri: SITE,
    authorizationEndpoint: "https://chat-1.auth.us-east-1.amazoncognito.com/oauth2/authorize",
    tokenEndpoint: "https://chat-1.auth.us-east-1.amazoncognito.com/oauth2/token",
    logoutEndpoint: "https://chat-1.auth.us-east-1.amazoncognito.com/logout",
  },
};
const OIDC = {
  websocketUrl: WSS,
  auth: { mode: "oidc", clientId: "web", issuer: "https://id.example.com/", scopes: ["openid"], redirectUri: SITE },
};
const DEV_SERVER = "http://localhost:5173";

describe("deployedSite (CHAT_BACKEND)", () => {
  it.each([
    ["https://d111.cloudfront.net", SITE],
    ["https://d111.cloudfront.net/", SITE],
    [" https://chat.example.com/app ", "https://chat.example.com/app/"],
    ["https://chat.example.com:8443/", "https://chat.example.com:8443/"],
  ])("takes the stack's WebUrl %j as the base of config.json", (value, base) => {
    expect(deployedSite(value).href).toBe(base);
  });

  it.each([
    ["http://d111.cloudfront.net", "https only"],
    ["ws://d111.cloudfront.net", "https only"],
    ["d111.cloudfront.net", "not a URL"],
    ["https://d111.cloudfront.net/?x=1", "no credentials, query or fragment"],
    ["https://user:pw@d111.cloudfront.net/", "no credentials, query or fragment"],
  ])("refuses %j, saying it wants the https WebUrl", (value, why) => {
    expect(() => deployedSite(value)).toThrow(`CHAT_BACKEND must be the deployed stack's WebUrl (https://<host>/): ${why}`);
  });
});

describe("localStackUrl (CHAT_PORT)", () => {
  it("is the local stack on 127.0.0.1, port 8080 unless CHAT_PORT says otherwise", () => {
    expect(localStackUrl(undefined)).toBe("http://127.0.0.1:8080");
    expect(localStackUrl("")).toBe("http://127.0.0.1:8080");
    expect(localStackUrl("9000")).toBe("http://127.0.0.1:9000");
  });

  it.each(["abc", "0", "70000", "80.5"])("refuses CHAT_PORT=%j", (port) => {
    expect(() => localStackUrl(port)).toThrow("CHAT_PORT must be the local stack's port");
  });
});

describe("requestOrigin", () => {
  it("is the origin the browser loaded the page from", () => {
    expect(requestOrigin("localhost:5173", false, "x")).toBe(DEV_SERVER);
    expect(requestOrigin("127.0.0.1:5174", true, "x")).toBe("https://127.0.0.1:5174");
    expect(requestOrigin(undefined, false, DEV_SERVER)).toBe(DEV_SERVER);
  });
});

describe("withRedirectTo", () => {
  it.each([
    ["Cognito", COGNITO],
    ["an external issuer", OIDC],
  ])("sends the sign-in with %s back to the dev server, and changes nothing else", (_, deployed) => {
    const config = withRedirectTo(deployed, DEV_SERVER, "config.json");
    expect(config).toEqual({ ...deployed, auth: { ...deployed.auth, redirectUri: `${DEV_SERVER}/` } });
    expect(deployed.auth.redirectUri).toBe(SITE);
  });

  it("refuses a local stack's config and anything the app would refuse", () => {
    const local = { websocketUrl: "ws://127.0.0.1:8080/ws", auth: { mode: "dev", tokenUrl: "/t", refreshUrl: "/r" } };
    expect(() => withRedirectTo(local, DEV_SERVER, "x/config.json")).toThrow("x/config.json is a local stack's config");
    expect(() => withRedirectTo({ websocketUrl: WSS }, DEV_SERVER, "x/config.json")).toThrow(
      "Invalid x/config.json: auth must be an object",
    );
  });
});

describe("deployedConfig", () => {
  const site = deployedSite(SITE);

  it("fetches the deployed config.json and answers it with the redirect rewritten", async () => {
    const asked: string[] = [];
    const answer = await deployedConfig(site, DEV_SERVER, async (input) => {
      asked.push(String(input));
      return Response.json(COGNITO);
    });
    expect(asked).toEqual([`${SITE}config.json`]);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("application/json");
    expect(answer.error).toBeUndefined();
    expect(JSON.parse(answer.body).auth.redirectUri).toBe(`${DEV_SERVER}/`);
  });

  it.each([
    [
      "an unreachable site",
      async () => Promise.reject(new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND") })),
      `could not fetch ${SITE}config.json: fetch failed: getaddrinfo ENOTFOUND`,
    ],
    ["an HTTP error", async () => new Response("no", { status: 403 }), `${SITE}config.json answered HTTP 403`],
    [
      "a page that is not JSON",
      async () => new Response("<!doctype html>", { status: 200 }),
      `${SITE}config.json is not JSON: is CHAT_BACKEND the stack's WebUrl?`,
    ],
    [
      "a config the app would refuse",
      async () => Response.json({ ...COGNITO, websocketUrl: "https://x" }),
      `Invalid ${SITE}config.json: websocketUrl must be a ws:// or wss:// URL`,
    ],
  ])("answers %s with a 502 whose text says what failed", async (_, fetchImpl, reason) => {
    const answer = await deployedConfig(site, DEV_SERVER, fetchImpl);
    expect(answer.status).toBe(502);
    expect(answer.contentType).toMatch(/^text\/plain/);
    expect(answer.body).toBe(`CHAT_BACKEND: ${reason}`);
    expect(answer.error).toBe(answer.body);
  });
});
