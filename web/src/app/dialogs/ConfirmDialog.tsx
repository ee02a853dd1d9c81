/* "Are you sure?" for what cannot be undone (deleting a message, removing a member): a modal that names the action
 * on its button, with Cancel first in the tab order and focused. */
import { useState } from "react";
import { errorMessage } from "../format";
import { Dialog } from "./Dialog";

export function ConfirmDialog({
  title,
  quote,
  text,
  confirmLabel,
  onConfirm,
  onClose,
}: {
  title: string;
  /** What it is about (a message's text), quoted above the question. */
  quote?: string;
  text: string;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <div className="dialog-form">
        {quote && <blockquote className="confirm-quote">{quote}</blockquote>}
        <p>{text}</p>
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="dialog-actions">
          <button type="button" className="button subtle" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="button primary danger-fill" onClick={() => void confirm()} disabled={busy} aria-busy={busy || undefined}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
