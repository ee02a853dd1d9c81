import { describe, expect, it } from "vitest";
import { badgeText, reactionLabel } from "./reactions";

describe("reactions and badges", () => {
  it("names a chip by its emoji and count", () => {
    expect(reactionLabel("👍", 2)).toBe("👍 2");
  });

  it("shows unread counts up to 99, then 99+", () => {
    expect(badgeText(1)).toBe("1");
    expect(badgeText(99)).toBe("99");
    expect(badgeText(100)).toBe("99+");
  });
});
