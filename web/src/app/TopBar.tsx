import type { ConnectionState } from "../client";
import { Avatar } from "./Avatar";
import { ConnectionBanner } from "./ConnectionBanner";
import { useTheme } from "./hooks";
import { BellIcon, Logo, MoonIcon, SunIcon } from "./icons";

export function TopBar({
  me,
  connection,
  onSignOut,
  onNotifications,
}: {
  me: { id: string; name: string };
  connection: ConnectionState;
  onSignOut: () => void;
  /** Opens the notification settings (absent: no such control). */
  onNotifications?: () => void;
}) {
  const [theme, toggleTheme] = useTheme();
  // The label says what the button switches to.
  const themeLabel = theme === "dark" ? "Light theme" : "Dark theme";
  return (
    <header className="topbar">
      <h1 className="brand">
        <Logo />
        <span className="brand-name">Chat</span>
      </h1>
      <ConnectionBanner connection={connection} />
      <div className="topbar-actions">
        <span className="me" title={`Signed in as ${me.name}`}>
          <Avatar id={me.id} name={me.name} size="sm" />
          <span className="me-name">
            <span className="visually-hidden">Signed in as </span>
            {me.name}
          </span>
        </span>
        {onNotifications && (
          <button type="button" className="icon-button" onClick={onNotifications} aria-label="Notifications" title="Notifications">
            <BellIcon />
          </button>
        )}
        <button type="button" className="icon-button" onClick={toggleTheme} aria-label={themeLabel} title={themeLabel}>
          {theme === "dark" ? <SunIcon /> : <MoonIcon />}
        </button>
        <button type="button" className="button subtle" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
