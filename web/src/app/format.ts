/* Times, days and countdowns as people read them. Pure functions of their inputs (`now` is passed in) so they
 * are testable; dates are shown in the browser's time zone and locale. */

import type { ChatRequestError, ErrorCode } from "../client";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long" });
const shortWeekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const monthDayFormat = new Intl.DateTimeFormat(undefined, { month: "long", day: "numeric" });
const fullDateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const shortFullDateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const fullDateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** The local calendar day of a moment, as a sortable key ("2025-01-31"). */
export function dayKey(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, "0");
  const day = String(date.getDate()).padStart(2, "0");
  return `${date.getFullYear()}-${month}-${day}`;
}

/** Whole local calendar days from `date` to `now` (0 today, 1 yesterday); DST-safe. */
export function daysAgo(date: Date, now: Date): number {
  const a = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  const b = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((b - a) / (24 * HOUR));
}

/** "10:30 AM" (the locale's clock). */
export function formatTime(date: Date): string {
  return timeFormat.format(date);
}

/** Full date and time, for a tooltip. */
export function formatFullDateTime(date: Date): string {
  return fullDateTimeFormat.format(date);
}

/** A day separator: "Today", "Yesterday", a weekday within the week, else the date (with the year if not this one). */
export function formatDay(date: Date, now: Date): string {
  const days = daysAgo(date, now);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days > 1 && days < 7) return weekdayFormat.format(date);
  if (date.getFullYear() === now.getFullYear()) return monthDayFormat.format(date);
  return fullDateFormat.format(date);
}

/** The time of a room's last message in the room list: the time today, else a short day. */
export function formatListTime(date: Date, now: Date): string {
  const days = daysAgo(date, now);
  if (days <= 0) return formatTime(date);
  if (days === 1) return "Yesterday";
  if (days < 7) return shortWeekdayFormat.format(date);
  if (date.getFullYear() === now.getFullYear()) return shortDateFormat.format(date);
  return shortFullDateFormat.format(date);
}

/** "Online", or when the user was last seen: "Last seen just now", "… 5 min ago", "… today at 9:30 AM". */
export function formatPresence(online: boolean, lastSeen: string | null, now: Date): string {
  if (online) return "Online";
  if (!lastSeen) return "Offline";
  const seen = new Date(lastSeen);
  if (Number.isNaN(seen.getTime())) return "Offline";
  const ago = now.getTime() - seen.getTime();
  if (ago < MINUTE) return "Last seen just now";
  if (ago < HOUR) return `Last seen ${Math.floor(ago / MINUTE)} min ago`;
  const days = daysAgo(seen, now);
  if (days === 0) return `Last seen today at ${formatTime(seen)}`;
  if (days === 1) return `Last seen yesterday at ${formatTime(seen)}`;
  return `Last seen ${formatListTime(seen, now)}`;
}

/** Whole seconds left until `at` (never negative), rounded up so a countdown shows "1 s" until it is due. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Who is typing, as a sentence ("" when nobody is). */
export function formatTyping(names: string[]): string {
  const [first, second] = names;
  if (first === undefined) return "";
  if (second === undefined) return `${first} is typing…`;
  if (names.length === 2) return `${first} and ${second} are typing…`;
  return `${first} and ${names.length - 1} others are typing…`;
}

type AnyErrorCode = ErrorCode | "timeout" | "offline";

/** What went wrong, for people, by error code (the server's `message` is the fallback for codes we do not know). */
export function describeError(code: AnyErrorCode | string, message?: string): string {
  switch (code) {
    case "bad_request":
      return "The app sent a request the server could not read.";
    case "too_large":
      return "Too long: shorten it and try again.";
    case "unauthorized":
      return "Your session expired. Reconnecting…";
    case "forbidden":
      return "Not allowed: you are not a member of this room, or it does not allow that.";
    case "not_found":
      return "That person no longer exists.";
    case "rate_limited":
      return "You are sending too fast.";
    case "rejected":
      return "Refused by moderation: change the text.";
    case "unavailable":
      return "The service is busy.";
    case "internal":
      return "Something went wrong on the server.";
    case "timeout":
      return "No answer from the server.";
    case "offline":
      return "You are offline.";
    default:
      return message || "Something went wrong.";
  }
}

/** A toast's text for an error event: the description plus, when waiting helps, for how long. */
export function describeRequestError(error: Pick<ChatRequestError, "code" | "message" | "retryAfterMs">): string {
  const text = describeError(error.code, error.message);
  if (error.retryAfterMs && error.retryAfterMs > 0) {
    return `${text} Try again in ${Math.ceil(error.retryAfterMs / 1000)} s.`;
  }
  return text;
}

/** Up to two initials for an avatar ("Ada Lovelace" → "AL"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0] ?? "?"];
  return letters
    .map((word) => Array.from(word ?? "")[0] ?? "")
    .join("")
    .toUpperCase();
}

/** A stable hue (0-359) for a user's avatar, from their id. */
export function hueFor(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(hash) % 360;
}

/** An exception's message, for people. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
