import type { ConnectionState } from "../client";
import { secondsUntil } from "./format";
import { useNow } from "./hooks";

/** The connection, always visible: a quiet "Online", or what is wrong and when the next attempt comes. */
export function ConnectionBanner({ connection }: { connection: ConnectionState }) {
  const reconnecting = connection.status === "reconnecting";
  const now = useNow(1000, reconnecting);
  let title: string;
  // The countdown is aria-hidden: a live region that changed every second would talk over everything else.
  let detail: string | null = null;
  let tooltip: string | undefined;
  switch (connection.status) {
    case "connecting":
      title = "Connecting…";
      break;
    case "online":
      title = "Online";
      break;
    case "reconnecting": {
      const seconds = secondsUntil(connection.retryAt, now);
      title = "Reconnecting";
      detail = seconds > 0 ? ` in ${seconds} s…` : "…";
      tooltip = connection.reason;
      break;
    }
    case "offline":
      title = "Offline";
      detail = connection.reason ? ` — ${connection.reason}` : "";
      tooltip = connection.reason;
      break;
    case "signedOut":
      title = "Signed out";
      detail = connection.reason ? ` — ${connection.reason}` : "";
      break;
  }
  return (
    <div className={`connection connection-${connection.status}`} role="status" aria-label="Connection" title={tooltip}>
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-text">
        {title}
        {detail !== null && <span aria-hidden={reconnecting || undefined}>{detail}</span>}
      </span>
    </div>
  );
}
