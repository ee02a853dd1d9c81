/* The service worker (web/pwa/service-worker.js, written as /sw.js by the build): registered in production
 * builds only, and the "A new version is available" prompt when a deploy brings a new one.
 *
 * A new worker installs in the background and waits. If it is the build this page already runs (the page was
 * loaded from the network after the deploy, the old worker still in charge), it takes over at once: nothing
 * changes for the page. Otherwise the page offers "Reload": the new worker takes over, then the page reloads.
 * Unsent messages survive a reload (the outbox is persisted). */

import { useSyncExternalStore } from "react";

const WORKER_URL = "/sw.js";
/** How often an open page asks whether a new version was deployed (also whenever it becomes visible). */
const CHECK_INTERVAL_MS = 30 * 60_000;
/** If the new worker never takes over (a bug, an extension), the reload happens anyway. */
const RELOAD_FALLBACK_MS = 3000;

let waiting: ServiceWorker | null = null;
let reloading = false;
const listeners = new Set<() => void>();

function setWaiting(worker: ServiceWorker | null) {
  waiting = worker;
  for (const listener of [...listeners]) listener();
}

/** Registers /sw.js once the page has loaded (production builds in a secure context only). */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !("serviceWorker" in navigator) || !window.isSecureContext) return;
  const container = navigator.serviceWorker;
  container.addEventListener("controllerchange", () => {
    if (reloading) window.location.reload();
  });
  const start = async () => {
    let registration: ServiceWorkerRegistration;
    try {
      registration = await container.register(WORKER_URL, { scope: "/", updateViaCache: "none" });
    } catch (error) {
      console.warn("The service worker could not be registered: the app works, but not offline.", error);
      return;
    }
    const consider = (worker: ServiceWorker | null) => {
      // Without a controller this is the first install: nothing old to replace.
      if (worker && worker.state === "installed" && container.controller) void offer(worker);
    };
    consider(registration.waiting);
    registration.addEventListener("updatefound", () => {
      const worker = registration.installing;
      worker?.addEventListener("statechange", () => consider(worker));
    });
    const check = () => void registration.update().catch(() => undefined); // offline: try next time
    window.setInterval(check, CHECK_INTERVAL_MS);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") check();
    });
  };
  if (document.readyState === "complete") void start();
  else window.addEventListener("load", () => void start(), { once: true });
}

async function offer(worker: ServiceWorker) {
  if (await runsThisPage(worker)) worker.postMessage({ type: "skipWaiting" });
  else setWaiting(worker);
}

/** Whether the worker precaches this page's own script, i.e. is the build this page runs. */
function runsThisPage(worker: ServiceWorker): Promise<boolean> {
  const script = document.querySelector<HTMLScriptElement>('script[type="module"][src]');
  if (!script) return Promise.resolve(false);
  const path = new URL(script.src).pathname;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = window.setTimeout(() => resolve(false), 1000);
    channel.port1.onmessage = (event) => {
      window.clearTimeout(timer);
      resolve(event.data === true);
    };
    worker.postMessage({ type: "precaches", path }, [channel.port2]);
  });
}

/** "Reload": the waiting worker takes over, then the page reloads with the new version. */
export function applyUpdate(): void {
  reloading = true;
  // Another tab may have let it take over already (it was that tab's build): then only the reload is left.
  if (waiting && waiting.state === "installed") waiting.postMessage({ type: "skipWaiting" });
  else window.location.reload();
  window.setTimeout(() => window.location.reload(), RELOAD_FALLBACK_MS);
}

/** Whether a new version waits for "Reload". */
export function useUpdateAvailable(): boolean {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    () => waiting !== null,
  );
}
