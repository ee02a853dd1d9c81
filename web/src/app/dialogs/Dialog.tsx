/* A modal dialog on the native <dialog> (showModal makes the rest of the page inert): Escape and the backdrop
 * close it, Tab cycles inside it, and focus returns where it was when it closes. */

import { CloseIcon } from "../icons";
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from "react";

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])';

export function Dialog({
  title,
  onClose,
  children,
  focusField = true,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** Start in the first field (false: on the first button, so a phone's keyboard does not pop up). */
  focusField?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    // Start in the first field (showModal would pick the Close button).
    ((focusField ? dialog.querySelector<HTMLElement>("input, textarea") : null) ?? dialog.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    return () => {
      dialog.close();
      opener?.focus();
    };
  }, []);

  // Keep Tab inside the dialog (showModal alone lets it reach the browser's own controls).
  const keyDown = (event: KeyboardEvent<HTMLDialogElement>) => {
    if (event.key !== "Tab") return;
    const focusable = Array.from(ref.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? []);
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault(); // Escape: close through React, so the state stays the truth.
        onClose();
      }}
      onKeyDown={keyDown}
      onMouseDown={(event) => {
        if (event.target === ref.current) onClose(); // the backdrop (the dialog box itself is its padding-free child)
      }}
    >
      <div className="dialog-box">
        <div className="dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" title="Close" onClick={onClose}>
            <CloseIcon />
          </button>
        </div>
        {children}
      </div>
    </dialog>
  );
}
