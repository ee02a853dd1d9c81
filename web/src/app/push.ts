/* This browser's Web Push subscription (PushManager of the service worker's registration). Asking for the
 * permission happens only in `turnOnPush`, called from a click ("Turn on notifications"). */

/** Whether this browser can be subscribed: a service worker registration with a PushManager, and Notification. */
export async function pushRegistration(): Promise<ServiceWorkerRegistration | null> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return null;
  try {
    return (await navigator.serviceWorker.getRegistration("/")) ?? null;
  } catch {
    return null;
  }
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await pushRegistration();
  if (!registration) return null;
  try {
    return await registration.pushManager.getSubscription();
  } catch {
    return null;
  }
}

/** Asks the permission (a click must have led here), then subscribes with the server's VAPID key. */
export async function turnOnPush(publicKey: string): Promise<PushSubscription> {
  const registration = await pushRegistration();
  if (!registration) throw new Error("This browser cannot receive notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are blocked for this site (see the browser's site settings).");
  const key = base64UrlBytes(publicKey);
  const existing = await registration.pushManager.getSubscription();
  // A subscription made with another key (a redeploy made a new one) cannot be reused.
  if (existing && !sameKey(existing.options.applicationServerKey, key)) await existing.unsubscribe();
  else if (existing) return existing;
  return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
}

/** Unsubscribes; resolves to the endpoint it had, to unregister on the server. */
export async function turnOffPush(): Promise<string | null> {
  const subscription = await currentSubscription();
  if (!subscription) return null;
  await subscription.unsubscribe();
  return subscription.endpoint;
}

export function base64UrlBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(value.length / 4) * 4, "=");
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function sameKey(known: ArrayBuffer | null | undefined, key: Uint8Array): boolean {
  if (!known) return true; // not told: assume it is ours
  const bytes = new Uint8Array(known);
  return bytes.length === key.length && bytes.every((byte, i) => byte === key[i]);
}
