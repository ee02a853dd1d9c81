import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../auth";
import { MemoryStorage } from "../auth/fakes.test-support";
import { loadConfigOrLast } from "./offline";

const CONFIG = {
  websocketUrl: "ws://127.0.0.1:8080/ws",
  auth: { mode: "dev", tokenUrl: "/auth/token", refreshUrl: "/auth/refresh" },
};

describe("loadConfigOrLast (the settings of an app opened offline)", () => {
  let network: () => Promise<Response>;
  beforeEach(() => {
    vi.stubGlobal("localStorage", new MemoryStorage());
    vi.stubGlobal("fetch", () => network());
  });
  afterEach(() => vi.unstubAllGlobals());
  const load = () => loadConfigOrLast((fetcher) => loadConfig({ fetch: fetcher }));

  it("uses the copy of the last settings that loaded when the network fails", async () => {
    network = async () => new Response(JSON.stringify(CONFIG), { status: 200 });
    expect(await load()).toEqual(CONFIG);
    network = () => Promise.reject(new TypeError("Failed to fetch"));
    expect(await load()).toEqual(CONFIG);
  });

  it("says what is wrong when the server answers wrongly, copy or not (a deploy's mistake must show)", async () => {
    network = async () => new Response(JSON.stringify(CONFIG), { status: 200 });
    await load();
    network = async () => new Response("nope", { status: 500 });
    await expect(load()).rejects.toThrow(/HTTP 500/);
  });

  it("without a copy, a network failure is the error it was", async () => {
    network = () => Promise.reject(new TypeError("Failed to fetch"));
    await expect(load()).rejects.toThrow(/Could not load \/config.json/);
  });
});
