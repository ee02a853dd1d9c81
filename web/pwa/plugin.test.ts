import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildId, precacheList, renderWorker, writeWorker } from "./plugin";

describe("precacheList", () => {
  it("keeps the shell and hashed assets, drops maps, dotfiles, the worker and config.json", () => {
    const list = precacheList([
      "index.html",
      "assets/index-abc.js",
      "assets/index-abc.js.map",
      "assets/index-def.css",
      "sw.js",
      "config.json",
      ".stamp",
      "icons/icon-192.png",
      "manifest.webmanifest",
    ]);
    expect(list).toEqual([
      "/assets/index-abc.js",
      "/assets/index-def.css",
      "/icons/icon-192.png",
      "/index.html",
      "/manifest.webmanifest",
    ]);
  });
});

describe("buildId", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  it("changes with any file's name or content, and only then", () => {
    const a = buildId([["/index.html", bytes("<html>")], ["/assets/a.js", bytes("1")]]);
    expect(buildId([["/index.html", bytes("<html>")], ["/assets/a.js", bytes("1")]])).toBe(a);
    expect(buildId([["/index.html", bytes("<html>")], ["/assets/a.js", bytes("2")]])).not.toBe(a);
    expect(buildId([["/index.html", bytes("<html>")], ["/assets/b.js", bytes("1")]])).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe("renderWorker", () => {
  it("fills in the build id and the list", () => {
    const source = renderWorker('const BUILD_ID = "__BUILD_ID__";\nconst PRECACHE = ["__PRECACHE__"];', ["/index.html"], "0badcafe");
    expect(source).toBe('const BUILD_ID = "0badcafe";\nconst PRECACHE = ["/index.html"];');
  });
  it("refuses a template without its placeholders", () => {
    expect(() => renderWorker("const PRECACHE = [];", [], "x")).toThrow(/lacks/);
  });
});

describe("writeWorker", () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it("writes dist/sw.js from the real template with this build's files", () => {
    dir = mkdtempSync(join(tmpdir(), "chat-sw-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<html></html>");
    writeFileSync(join(dir, "assets", "index-1.js"), "console.log(1)");
    writeFileSync(join(dir, "assets", "index-1.js.map"), "{}");
    const first = writeWorker(dir);
    expect(first.precache).toEqual(["/assets/index-1.js", "/index.html"]);
    const worker = readFileSync(join(dir, "sw.js"), "utf8");
    expect(worker).toContain(`const BUILD_ID = "${first.id}";`);
    expect(worker).toContain('const PRECACHE = ["/assets/index-1.js","/index.html"];');
    expect(worker).not.toContain("__PRECACHE__");

    // A new build (another asset) is another worker; sw.js itself is not part of the id.
    writeFileSync(join(dir, "assets", "index-2.js"), "console.log(2)");
    const second = writeWorker(dir);
    expect(second.id).not.toBe(first.id);
    expect(second.precache).not.toContain("/sw.js");
  });
});
