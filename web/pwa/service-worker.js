/* The chat's service worker (template: the build writes dist/sw.js from it, see plugin.ts).
 *
 * - install: precaches the app shell of its build (index.html, the hashed assets, icons, manifest).
 * - activate: deletes the caches of other builds.
 * - navigations: network first (a new deploy is seen at once), the cached index.html when the network fails.
 * - /assets/*: cache first (named after their content: a name never changes its bytes).
 * - never touched: config.json, /auth/*, other origins (sign-in, the WebSocket), anything but GET.
 * A new worker waits until the page says it may take over (its "Reload" prompt, see src/app/updates.ts). */

const BUILD_ID = "__BUILD_ID__";
const PRECACHE = ["__PRECACHE__"];
const CACHE_PREFIX = "chat-shell-";
const CACHE = CACHE_PREFIX + BUILD_ID;
const SHELL = "/index.html";
const NEVER_CACHED = ["/config.json", "/auth/", "/ws"];

self.addEventListener("install", (event) => {
  // cache: "reload": straight from the server, not from the browser's HTTP cache (which may hold an older file).
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith(CACHE_PREFIX) && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "skipWaiting") self.skipWaiting();
  // The page asks whether it already runs this worker's build (then the worker may take over at once).
  if (data.type === "precaches" && event.ports[0]) event.ports[0].postMessage(PRECACHE.includes(data.path));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NEVER_CACHED.some((path) => url.pathname === path || (path.endsWith("/") && url.pathname.startsWith(path)))) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/assets/") || PRECACHE.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await caches.match(SHELL, { cacheName: CACHE });
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: CACHE, ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  // A hashed asset this build did not precache (none today): kept for next time.
  if (response.ok && new URL(request.url).pathname.startsWith("/assets/")) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy), () => undefined);
  }
  return response;
}
