import { applyUpdate, useUpdateAvailable } from "./updates";

/** A deploy brought a new version: offered, never forced (a half-typed message stays until the user reloads). */
export function UpdatePrompt() {
  const available = useUpdateAvailable();
  if (!available) return null;
  return (
    <div className="update-prompt" role="status">
      <span>A new version is available.</span>
      <button type="button" className="button primary" onClick={applyUpdate}>
        Reload
      </button>
    </div>
  );
}
