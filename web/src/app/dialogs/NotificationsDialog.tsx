/* Notifications on this device (the permission is asked only when "Turn on notifications" is clicked) and the
 * user's preview setting (every device). */
import { useEffect, useState } from "react";
import type { ChatSnapshot } from "../../client";
import { errorMessage } from "../format";
import { useClient } from "../hooks";
import { currentSubscription, pushRegistration, turnOffPush, turnOnPush } from "../push";
import { Dialog } from "./Dialog";

type DeviceState = "checking" | "unsupported" | "off" | "on";

export function NotificationsDialog({ settings, onClose }: { settings: ChatSnapshot["notifications"]; onClose: () => void }) {
  const client = useClient();
  const [device, setDevice] = useState<DeviceState>("checking");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const registration = await pushRegistration();
      const subscription = registration ? await currentSubscription() : null;
      if (!cancelled) setDevice(!registration ? "unsupported" : subscription ? "on" : "off");
    })();
    return () => {
      cancelled = true;
    };
  }, []);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const turnOn = () =>
    run(async () => {
      if (!settings?.pushPublicKey) return;
      const subscription = await turnOnPush(settings.pushPublicKey);
      await client.setPushSubscription(subscription.toJSON());
      setDevice("on");
    });

  const turnOff = () =>
    run(async () => {
      const registered = client.pushEndpoint();
      const endpoint = await turnOffPush();
      setDevice("off");
      await client.setPushSubscription(null); // unregisters the device the client registers on every open
      if (endpoint && endpoint !== registered) await client.unregisterPush(endpoint);
    });

  const available = settings?.pushPublicKey != null && device !== "unsupported";
  return (
    <Dialog title="Notifications" onClose={onClose} focusField={false}>
      <div className="dialog-form notifications-settings">
        {settings === null ? (
          <p className="muted">Loading the settings…</p>
        ) : available ? (
          <div className="setting">
            <p>
              {device === "on"
                ? "This device is notified of new messages while the chat is closed."
                : "Get notified of new messages on this device while the chat is closed."}
            </p>
            {device === "on" ? (
              <button type="button" className="button subtle" onClick={() => void turnOff()} disabled={busy}>
                Turn off notifications
              </button>
            ) : (
              <button type="button" className="button primary" onClick={() => void turnOn()} disabled={busy || device === "checking"}>
                Turn on notifications
              </button>
            )}
          </div>
        ) : (
          <p className="muted">{device === "unsupported" ? "This browser cannot show the chat's notifications." : "This chat sends no notifications."}</p>
        )}
        {settings !== null && (
          <label className="setting checkbox">
            <input
              type="checkbox"
              checked={settings.showPreviews}
              disabled={busy}
              onChange={(event) => {
                const showPreviews = event.target.checked;
                void run(() => client.setShowPreviews(showPreviews));
              }}
            />
            Show message text in notifications
          </label>
        )}
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </Dialog>
  );
}
