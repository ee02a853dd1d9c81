/* React hooks over the chat client and the browser. */

import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from "react";
import type { ChatClient, ChatSnapshot } from "../client";

export const ClientContext = createContext<ChatClient | null>(null);

/** The chat client of the signed-in session (components under <ChatScreen> only). */
export function useClient(): ChatClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside <ClientContext.Provider>");
  return client;
}

/** The client's immutable snapshot; re-renders on every change. */
export function useChatSnapshot(client: ChatClient): ChatSnapshot {
  const subscribe = useCallback((listener: () => void) => client.subscribe(listener), [client]);
  const getSnapshot = useCallback(() => client.getSnapshot(), [client]);
  return useSyncExternalStore(subscribe, getSnapshot);
}

/** The current time, refreshed every `intervalMs` while `enabled` (for countdowns and "5 min ago"). */
export function useNow(intervalMs: number, enabled = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!enabled) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs, enabled]);
  return now;
}

function subscribeMedia(query: string) {
  return (listener: () => void) => {
    const list = window.matchMedia(query);
    list.addEventListener("change", listener);
    return () => list.removeEventListener("change", listener);
  };
}

/** Whether a CSS media query matches, kept current. */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback((listener: () => void) => subscribeMedia(query)(listener), [query]);
  return useSyncExternalStore(subscribe, () => window.matchMedia(query).matches);
}

function subscribeVisibility(listener: () => void) {
  document.addEventListener("visibilitychange", listener);
  return () => document.removeEventListener("visibilitychange", listener);
}

/** Whether the tab is visible (read markers only move while someone can see the messages). */
export function useDocumentVisible(): boolean {
  return useSyncExternalStore(subscribeVisibility, () => document.visibilityState === "visible");
}

export type Theme = "light" | "dark";
const THEME_KEY = "chat.theme";

function storedTheme(): Theme | null {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null;
  }
}

/** Applies the stored theme choice, else the system's, to <html> before the first render (no flash of the other
 * theme). The palettes are keyed on `data-theme` alone, so each is written once in theme.css. */
export function applyStoredTheme(): void {
  const systemDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = storedTheme() ?? (systemDark ? "dark" : "light");
}

/** The theme in use (the stored choice, else the system's) and a toggle that stores the choice. */
export function useTheme(): [Theme, () => void] {
  const systemDark = useMediaQuery("(prefers-color-scheme: dark)");
  const [choice, setChoice] = useState<Theme | null>(storedTheme);
  const theme: Theme = choice ?? (systemDark ? "dark" : "light");
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = useCallback(() => {
    const next: Theme = theme === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // Private mode or storage full: the choice lasts for this page only.
    }
    setChoice(next);
  }, [theme]);
  return [theme, toggle];
}
