/* How new messages reach screen readers, and loaded history does not.
 *
 * The message list is a `role="log"` (so it is a log for assistive technology: ordered, newest last), but with
 * `aria-live="off"`: it is windowed, and scrolling or loading older pages inserts rows that a live region would
 * read out as if they were new. Instead, every message *pushed live* by someone else (the client's `message`
 * event with `live: true`) is written as "Bob: hello" into this visually hidden polite live region, which only
 * ever grows by those. So the log announces new messages and never history; its rows stay browsable as usual. */

import { useCallback, useRef, useState } from "react";

interface Announcement {
  id: number;
  text: string;
}

/** Kept short: old entries add nothing once spoken. */
const KEEP = 5;
let nextId = 1;

/** The same text again within this time is not repeated ("New message from Bob in Design", ten times over). */
const REPEAT_AFTER_MS = 30_000;

export function useAnnouncer() {
  const [announcements, setAnnouncements] = useState<Announcement[]>([]);
  const spoken = useRef(new Map<string, number>());
  /** `quiet`: not again if said within REPEAT_AFTER_MS (notices about other rooms; never a message itself). */
  const announce = useCallback((text: string, { quiet = false }: { quiet?: boolean } = {}) => {
    if (quiet) {
      const now = Date.now();
      const last = spoken.current.get(text);
      if (last !== undefined && now - last < REPEAT_AFTER_MS) return;
      spoken.current.set(text, now);
    }
    setAnnouncements((current) => [...current, { id: nextId++, text }].slice(-KEEP));
  }, []);
  return { announcements, announce };
}

export function Announcer({ announcements }: { announcements: Announcement[] }) {
  return (
    <div className="visually-hidden" aria-live="polite" aria-relevant="additions" aria-atomic="false">
      {announcements.map((announcement) => (
        <p key={announcement.id}>{announcement.text}</p>
      ))}
    </div>
  );
}
