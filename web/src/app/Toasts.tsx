/* Errors nobody awaited (a push that failed, a request that timed out) as toasts: announced (role="alert"),
 * kept until dismissed, at most a few at once. */

import { CloseIcon } from "./icons";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

interface Toast {
  id: number;
  text: string;
}

const MAX_TOASTS = 3;
const ToastContext = createContext<(text: string) => void>(() => {});

/** Show an error toast. */
export function useToast(): (text: string) => void {
  return useContext(ToastContext);
}

let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const show = useCallback((text: string) => {
    setToasts((current) => {
      // The same error twice in a row (a burst of failures) stays one toast.
      if (current.at(-1)?.text === text) return current;
      return [...current, { id: nextId++, text }].slice(-MAX_TOASTS);
    });
  }, []);
  const dismiss = (id: number) => setToasts((current) => current.filter((toast) => toast.id !== id));
  const value = useMemo(() => show, [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts">
        {toasts.map((toast) => (
          <div key={toast.id} className="toast" role="alert">
            <span className="toast-text">{toast.text}</span>
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
              <CloseIcon />
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
