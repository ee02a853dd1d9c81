import { describe, expect, it } from "vitest";
import protocolSchema from "../client/protocol.schema.json";
import {
  dayKey,
  daysAgo,
  describeError,
  describeRequestError,
  formatDay,
  formatListTime,
  formatPresence,
  formatTime,
  formatTyping,
  initials,
  secondsUntil,
} from "./format";

// Local times, so the tests hold in every time zone.
const now = new Date(2025, 5, 18, 15, 30); // Wednesday 18 June 2025, 15:30
const at = (day: number, hour = 9, minute = 0, month = 5, year = 2025) => new Date(year, month, day, hour, minute);

describe("days", () => {
  it("keys a moment by its local calendar day", () => {
    expect(dayKey(at(18, 0, 0))).toBe("2025-06-18");
    expect(dayKey(at(18, 23, 59))).toBe("2025-06-18");
    expect(dayKey(at(5, 12, 0, 0))).toBe("2025-01-05");
  });

  it("counts calendar days, not 24-hour spans", () => {
    expect(daysAgo(at(18, 0, 1), now)).toBe(0);
    expect(daysAgo(at(17, 23, 59), now)).toBe(1);
    expect(daysAgo(at(11), now)).toBe(7);
  });

  it("names the day of a separator: today, yesterday, a weekday this week, else the date", () => {
    expect(formatDay(at(18, 8), now)).toBe("Today");
    expect(formatDay(at(17, 23), now)).toBe("Yesterday");
    expect(formatDay(at(14), now)).toBe(new Intl.DateTimeFormat(undefined, { weekday: "long" }).format(at(14)));
    expect(formatDay(at(2), now)).toBe(new Intl.DateTimeFormat(undefined, { month: "long", day: "numeric" }).format(at(2)));
    const lastYear = at(2, 9, 0, 5, 2024);
    expect(formatDay(lastYear, now)).toContain("2024");
  });

  it("shows the time of a room's last message today, and a short day before", () => {
    expect(formatListTime(at(18, 9, 5), now)).toBe(formatTime(at(18, 9, 5)));
    expect(formatListTime(at(17), now)).toBe("Yesterday");
    expect(formatListTime(at(15), now)).toBe(new Intl.DateTimeFormat(undefined, { weekday: "short" }).format(at(15)));
  });
});

describe("presence", () => {
  const seen = (date: Date) => date.toISOString();

  it("says Online, or how long ago the user was last seen", () => {
    expect(formatPresence(true, null, now)).toBe("Online");
    expect(formatPresence(false, seen(new Date(now.getTime() - 20_000)), now)).toBe("Last seen just now");
    expect(formatPresence(false, seen(new Date(now.getTime() - 5 * 60_000)), now)).toBe("Last seen 5 min ago");
    expect(formatPresence(false, seen(at(18, 9, 30)), now)).toBe(`Last seen today at ${formatTime(at(18, 9, 30))}`);
    expect(formatPresence(false, seen(at(17, 22, 0)), now)).toBe(`Last seen yesterday at ${formatTime(at(17, 22, 0))}`);
  });

  it("says Offline when it never saw the user or cannot read the time", () => {
    expect(formatPresence(false, null, now)).toBe("Offline");
    expect(formatPresence(false, "not a date", now)).toBe("Offline");
  });
});

describe("countdowns", () => {
  it("rounds up, so a countdown shows 1 s until it is due, and never goes negative", () => {
    expect(secondsUntil(10_000, 5_000)).toBe(5);
    expect(secondsUntil(10_000, 9_001)).toBe(1);
    expect(secondsUntil(10_000, 10_000)).toBe(0);
    expect(secondsUntil(10_000, 12_000)).toBe(0);
  });
});

describe("typing", () => {
  it("names one, two, or the first and how many others", () => {
    expect(formatTyping([])).toBe("");
    expect(formatTyping(["Bob"])).toBe("Bob is typing…");
    expect(formatTyping(["Bob", "Carol"])).toBe("Bob and Carol are typing…");
    expect(formatTyping(["Bob", "Carol", "Dan"])).toBe("Bob and 2 others are typing…");
  });
});

describe("errors", () => {
  it("describes every error code for people, and waits when the server says so", () => {
    // Every code the server's models define (a new one fails here until it is described), and the client's own.
    for (const code of [...protocolSchema.$defs.ErrorCode.enum, "timeout", "offline"]) {
      expect(describeError(code)).not.toBe("Something went wrong.");
    }
    expect(describeError("brand_new_code", "Server words")).toBe("Server words");
    expect(describeRequestError({ code: "rate_limited", message: "", retryAfterMs: 2500 })).toBe(
      "You are sending too fast. Try again in 3 s.",
    );
  });
});

describe("initials", () => {
  it("takes the first letters of the first and last words", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("  bob ")).toBe("B");
    expect(initials("Jean Paul Sartre")).toBe("JS");
    expect(initials("")).toBe("?");
  });
});
