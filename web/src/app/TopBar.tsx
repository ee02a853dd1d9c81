import type { ConnectionState } from "../client";
import { Avatar } from "./Avatar";
import { ConnectionBanner } from "./ConnectionBanner";
import { useTheme } from "./hooks";
import { Logo, MoonIcon, SunIcon } from "./icons";

export function TopBar({
  me,
  connection,
  onSignOut,
}: {
  me: { id: string; name: string };
  connection: ConnectionState;
  onSignOut: () => void;
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
