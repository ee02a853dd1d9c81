/* The chat's service worker (template: the build writes dist/sw.js from it, see plugin.ts).
 *
 * - install: precaches the app shell of its build (index.html, the hashed assets, icons, manifest).
 * - activate: deletes the caches of other builds.
 * - navigations: network first (a new deploy is seen at once), the cached index.html when the network fails.
 * - /assets/*: cache first (named after their content: a name never changes its bytes).
 * - never touched: config.json, /auth/*, other origins (sign-in, the WebSocket), anything but GET.
 * - push: shows the notification the server sent (one per room: tag = room id), unless a window of the app shows
 *   that room; notificationclick: focuses a window of the app and opens the room there, or opens a new one.
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

// ---- notifications --------------------------------------------------------------------------------------------

const NOTIFICATION_ICON = "/icons/icon-192.png"; // the manifest's
/** How long a window has to say which room it shows. */
const WHICH_ROOM_TIMEOUT_MS = 500;

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(event.data));
});

async function showPush(data) {
  let payload = {};
  try {
    payload = data ? data.json() : {};
  } catch (error) {
    payload = { body: data ? data.text() : "" };
  }
  const roomId = typeof payload.roomId === "string" ? payload.roomId : "";
  const url = typeof payload.url === "string" && payload.url.startsWith("/") ? payload.url : "/";
  if (roomId && (await roomShown(roomId))) return; // the user is looking at it
  await self.registration.showNotification(payload.title || "Chat", {
    body: payload.body || "New messages",
    icon: NOTIFICATION_ICON,
    badge: NOTIFICATION_ICON,
    tag: roomId || "chat",
    renotify: Boolean(roomId),
    data: { url, roomId, seq: payload.seq, messageId: payload.messageId },
  });
}

/** Whether a focused, visible window of the app shows the room (each is asked; a silent one counts as not). */
async function roomShown(roomId) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const asked = windows.filter((client) => client.focused && client.visibilityState !== "hidden").map(whichRoom);
  return (await Promise.all(asked)).includes(roomId);
}

function whichRoom(client) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), WHICH_ROOM_TIMEOUT_MS);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve((event.data && event.data.roomId) || null);
    };
    client.postMessage({ type: "whichRoom" }, [channel.port2]);
  });
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification.data || {}));
});

async function openFromNotification(data) {
  const url = typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/";
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ours = windows.filter((client) => new URL(client.url).origin === self.location.origin);
  const target = ours.find((client) => client.focused) || ours[0];
  if (target) {
    await target.focus();
    target.postMessage({ type: "openRoom", roomId: data.roomId, seq: data.seq });
    return;
  }
  await self.clients.openWindow(url);
}
