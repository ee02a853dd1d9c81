import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "./config";
import { fakeFetch, json } from "./fakes.test-support";

const DEV = { websocketUrl: "ws://127.0.0.1:8080/ws", auth: { mode: "dev", tokenUrl: "/auth/token", refreshUrl: "/auth/refresh" } };
const COGNITO_AUTH = {
  mode: "cognito",
  clientId: "client123",
  issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
  scopes: ["openid", "profile", "email"],
  redirectUri: "https://d111.cloudfront.net/",
  authorizationEndpoint: "https://chat-1.auth.us-east-1.amazoncognito.com/oauth2/authorize",
  tokenEndpoint: "https://chat-1.auth.us-east-1.amazoncognito.com/oauth2/token",
  logoutEndpoint: "https://chat-1.auth.us-east-1.amazoncognito.com/logout",
};
const OIDC_AUTH = {
  mode: "oidc",
  clientId: "web",
  issuer: "https://id.example.com/realms/chat",
  scopes: ["openid", "profile"],
  redirectUri: "https://chat.example.com/",
};

describe("parseConfig", () => {
  it("accepts the local stack's config", () => {
    expect(parseConfig(DEV)).toEqual(DEV);
  });

  it("accepts the Cognito and OIDC configs of the CDK stack, dropping unknown fields", () => {
    const wss = "wss://abc.execute-api.us-east-1.amazonaws.com/prod";
    expect(parseConfig({ websocketUrl: wss, auth: COGNITO_AUTH })).toEqual({ websocketUrl: wss, auth: COGNITO_AUTH });
    expect(parseConfig({ websocketUrl: wss, auth: { ...OIDC_AUTH, extra: 1 }, other: true })).toEqual({
      websocketUrl: wss,
      auth: OIDC_AUTH,
    });
  });

  it.each([
    [null, "Invalid /config.json: expected a JSON object"],
    [[], "Invalid /config.json: expected a JSON object"],
    [{ ...DEV, websocketUrl: "http://127.0.0.1:8080/ws" }, "websocketUrl must be a ws:// or wss:// URL"],
    [{ ...DEV, websocketUrl: "not a url" }, "websocketUrl must be a ws:// or wss:// URL"],
    [{ websocketUrl: DEV.websocketUrl }, "auth must be an object"],
    [{ ...DEV, auth: { mode: "saml" } }, 'auth.mode must be "dev", "cognito" or "oidc" (got "saml")'],
    [{ ...DEV, auth: { mode: "dev", tokenUrl: "/auth/token" } }, "auth.refreshUrl must be a non-empty string (mode dev)"],
    [{ ...DEV, auth: { ...COGNITO_AUTH, logoutEndpoint: undefined } }, "auth.logoutEndpoint must be an http(s) URL"],
    [{ ...DEV, auth: { ...COGNITO_AUTH, tokenEndpoint: "/oauth2/token" } }, "auth.tokenEndpoint must be an http(s) URL"],
    [{ ...DEV, auth: { ...OIDC_AUTH, clientId: "" } }, "auth.clientId must be a non-empty string (mode oidc)"],
    [{ ...DEV, auth: { ...OIDC_AUTH, scopes: "openid" } }, "auth.scopes must be a non-empty array of strings"],
    [{ ...DEV, auth: { ...OIDC_AUTH, scopes: ["profile"] } }, 'auth.scopes must include "openid"'],
  ])("rejects %j with a message naming the problem", (value, message) => {
    expect(() => parseConfig(value)).toThrow(message);
  });
});

describe("loadConfig", () => {
  it("fetches /config.json without the HTTP cache", async () => {
    let init: RequestInit | undefined;
    const config = await loadConfig({
      fetch: async (input, options) => {
        expect(input).toBe("/config.json");
        init = options;
        return json(DEV);
      },
    });
    expect(config).toEqual(DEV);
    expect(init?.cache).toBe("no-store");
  });

  it("says which HTTP status it got", async () => {
    await expect(loadConfig({ fetch: fakeFetch({}) })).rejects.toThrow("Could not load /config.json: HTTP 404");
  });

  it("adds the reason a server gives as plain text (the dev server when the deployed config is out of reach)", async () => {
    const reason = "CHAT_BACKEND: could not fetch https://d1.cloudfront.net/config.json: getaddrinfo ENOTFOUND";
    const text = (body: string) => () =>
      new Response(body, { status: 502, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    await expect(loadConfig({ fetch: fakeFetch({ "/config.json": text(reason) }) })).rejects.toThrow(
      `Could not load /config.json: HTTP 502: ${reason}`,
    );
    const long = await loadConfig({ fetch: fakeFetch({ "/config.json": text("x".repeat(1000)) }) }).catch(String);
    expect(long).toMatch(/HTTP 502: x{300}…$/);
    const html = () => new Response("<h1>Bad gateway</h1>", { status: 502, headers: { "Content-Type": "text/html" } });
    await expect(loadConfig({ fetch: fakeFetch({ "/config.json": html }) })).rejects.toThrow(/HTTP 502$/);
  });

  it("says when the file is not JSON", async () => {
    const fetch = fakeFetch({ "/config.json": () => new Response("<html>", { status: 200 }) });
    await expect(loadConfig({ fetch })).rejects.toThrow("/config.json is not valid JSON");
  });

  it("says when the server cannot be reached", async () => {
    const fetch = async () => Promise.reject(new TypeError("Failed to fetch"));
    await expect(loadConfig({ fetch })).rejects.toThrow("Could not load /config.json: Failed to fetch");
  });

  it("validates what it fetched", async () => {
    const fetch = fakeFetch({ "/config.json": () => json({ ...DEV, websocketUrl: "https://x/ws" }) });
    await expect(loadConfig({ fetch })).rejects.toThrow("Invalid /config.json: websocketUrl must be a ws:// or wss:// URL");
  });
});
