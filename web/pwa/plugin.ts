/* The service worker's build step: after `vite build` has written dist/, writes dist/sw.js from
 * pwa/service-worker.js with the files of THIS build to precache and a build id (a hash of their names and
 * contents). A new deploy changes the id, so the browser installs the new worker and drops the old cache. */

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin, ResolvedConfig } from "vite";

export const WORKER_FILE = "sw.js";
const TEMPLATE = fileURLToPath(new URL("./service-worker.js", import.meta.url));

/** Files the app fetches itself or that must never be served from a cache: never precached. */
const NEVER_PRECACHED = new Set([WORKER_FILE, "config.json"]);

/** The URL paths to precache, sorted: everything in dist but source maps, dotfiles, the worker and config.json. */
export function precacheList(files: readonly string[]): string[] {
  return files
    .map((file) => file.split(sep).join("/"))
    .filter((file) => !file.endsWith(".map") && !NEVER_PRECACHED.has(file))
    .filter((file) => !file.split("/").some((part) => part.startsWith(".")))
    .map((file) => `/${file}`)
    .sort();
}

/** FNV-1a (32 bits, hex) over each file's path and bytes: changes whenever any precached file does. */
export function buildId(files: ReadonlyArray<readonly [path: string, bytes: Uint8Array]>): string {
  let hash = 0x811c9dc5;
  const mix = (byte: number) => {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  };
  const encoder = new TextEncoder();
  for (const [path, bytes] of files) {
    for (const byte of encoder.encode(`${path}\0`)) mix(byte);
    for (const byte of bytes) mix(byte);
  }
  return hash.toString(16).padStart(8, "0");
}

/** The worker's source with its constants filled in; throws if the template lost a placeholder. */
export function renderWorker(template: string, precache: readonly string[], id: string): string {
  const placeholders = { '"__BUILD_ID__"': JSON.stringify(id), '["__PRECACHE__"]': JSON.stringify(precache) };
  let source = template;
  for (const [placeholder, value] of Object.entries(placeholders)) {
    if (!source.includes(placeholder)) throw new Error(`${TEMPLATE} lacks ${placeholder}`);
    source = source.replace(placeholder, value);
  }
  return source;
}

/** Writes `dist/sw.js` for the files in `outDir`; returns what it precaches (for the build log and tests). */
export function writeWorker(outDir: string, template = readFileSync(TEMPLATE, "utf8")) {
  const files = readdirSync(outDir, { recursive: true }).filter((file) => statSync(join(outDir, file)).isFile());
  const precache = precacheList(files);
  const contents = precache.map((path) => [path, readFileSync(join(outDir, path.slice(1)))] as const);
  const id = buildId(contents);
  writeFileSync(join(outDir, WORKER_FILE), renderWorker(template, precache, id));
  const bytes = contents.reduce((sum, [, data]) => sum + data.length, 0);
  return { id, precache, bytes };
}

/** `vite build` only: the dev server has no worker (it would cache modules being edited). */
export function serviceWorkerPlugin(): Plugin {
  let config: ResolvedConfig;
  return {
    name: "chat-service-worker",
    apply: "build",
    enforce: "post",
    configResolved(resolved) {
      config = resolved;
    },
    closeBundle() {
      const outDir = resolve(config.root, config.build.outDir);
      const { id, precache, bytes } = writeWorker(outDir);
      config.logger.info(
        `${config.build.outDir}/${WORKER_FILE}: build ${id}, precaches ${precache.length} files, ${(bytes / 1024).toFixed(1)} kB`,
      );
    },
  };
}
