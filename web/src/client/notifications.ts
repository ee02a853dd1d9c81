/* Notification settings and this device's push subscription, kept for the client (see client.ts). Framework-free:
 * the app makes the subscription (PushManager) and hands its JSON here; this module registers it on every open. */
import type { PushSubscriptionInfo, SettingsFrame } from "./protocol";

export interface NotificationSettings {
  showPreviews: boolean;
  /** The server's VAPID public key (base64url) for `PushManager.subscribe`; null: this deployment sends none. */
  pushPublicKey: string | null;
}

/** What `PushSubscription.toJSON()` gives. */
export interface PushSubscriptionJson {
  endpoint?: string;
  keys?: Record<string, string>;
}

/** The protocol's subscription from the browser's JSON (the same names). Null when something is missing. */
export function subscriptionInfo(json: PushSubscriptionJson): PushSubscriptionInfo | null {
  const p256dh = json.keys?.p256dh;
  const auth = json.keys?.auth;
  if (!json.endpoint || !p256dh || !auth) return null;
  return { endpoint: json.endpoint, keys: { p256dh, auth } };
}

export class NotificationState {
  settings: NotificationSettings | null = null;
  /** This device's subscription: registered again on every open (idempotent; endpoints can rotate). */
  device: PushSubscriptionInfo | null = null;

  constructor(private readonly changed: () => void) {}

  applySettings(frame: SettingsFrame): void {
    const next = { showPreviews: frame.showPreviews, pushPublicKey: frame.pushPublicKey ?? null };
    if (this.settings && this.settings.showPreviews === next.showPreviews && this.settings.pushPublicKey === next.pushPublicKey) return;
    this.settings = next;
    this.changed();
  }

  clear(): void {
    this.settings = null;
    this.device = null;
    this.changed();
  }
}
