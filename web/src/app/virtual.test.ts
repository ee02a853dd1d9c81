import { describe, expect, it } from "vitest";
import { anchoredScrollTop, computeOffsets, findAnchor, isAtBottom, rowAt, visibleRange } from "./virtual";

describe("offsets", () => {
  it("starts each row where the previous one ends, and ends with the total height", () => {
    expect(Array.from(computeOffsets([10, 20, 30]))).toEqual([0, 10, 30, 60]);
    expect(Array.from(computeOffsets([]))).toEqual([0]);
  });

  it("finds the row covering a position, clamped to the rows", () => {
    const offsets = computeOffsets([10, 20, 30]);
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 9.9)).toBe(0);
    expect(rowAt(offsets, 10)).toBe(1);
    expect(rowAt(offsets, 59)).toBe(2);
    expect(rowAt(offsets, 500)).toBe(2);
    expect(rowAt(offsets, -5)).toBe(0);
  });
});

describe("visibleRange", () => {
  const offsets = computeOffsets(Array.from({ length: 1000 }, () => 50));

  it("renders the rows in the viewport plus the overscan, not the thousands around them", () => {
    expect(visibleRange(offsets, 10_000, 500, 100)).toEqual({ start: 198, end: 213 });
  });

  it("clamps at both ends", () => {
    expect(visibleRange(offsets, 0, 500, 100)).toEqual({ start: 0, end: 13 });
    expect(visibleRange(offsets, 49_800, 500, 100)).toEqual({ start: 994, end: 1000 });
    expect(visibleRange(computeOffsets([]), 0, 500, 100)).toEqual({ start: 0, end: 0 });
  });
});

describe("scroll anchoring", () => {
  const keys = ["day", "a", "b", "c"];
  const heights = [30, 50, 50, 50];

  it("anchors on the first message at the viewport's top, skipping separators", () => {
    const offsets = computeOffsets(heights);
    const isMessage = (index: number) => keys[index] !== "day";
    expect(findAnchor(offsets, keys, 0, isMessage)).toEqual({ key: "a", offset: 30 });
    expect(findAnchor(offsets, keys, 60, isMessage)).toEqual({ key: "a", offset: -30 });
    expect(findAnchor(offsets, keys, 90, isMessage)).toEqual({ key: "b", offset: -10 });
    expect(findAnchor(computeOffsets([]), [], 0)).toBeNull();
  });

  it("keeps the anchored row where it was when a page is prepended above it", () => {
    const before = computeOffsets(heights);
    const viewportTop = 90; // row "b" starts 10 px above the viewport
    const anchor = findAnchor(before, keys, viewportTop)!;
    expect(anchor.key).toBe("b");
    // 50 older rows of 40 px arrive above; the day separator stays first.
    const older = Array.from({ length: 50 }, () => 40);
    const afterKeys = ["day", ...older.map((_, i) => `old${i}`), "a", "b", "c"];
    const after = computeOffsets([30, ...older, 50, 50, 50]);
    const rowTop = after[afterKeys.indexOf("b")]!;
    const top = anchoredScrollTop(rowTop, anchor);
    expect(top).toBe(viewportTop + 50 * 40);
    expect(rowTop - top).toBe(anchor.offset); // same place on screen
  });

  it("keeps the anchored row still when rows above it get their measured height", () => {
    const anchor = { key: "c", offset: 20 };
    const estimated = computeOffsets([30, 50, 50, 50]);
    const measured = computeOffsets([30, 80, 65, 50]);
    const topBefore = anchoredScrollTop(estimated[3]!, anchor);
    const topAfter = anchoredScrollTop(measured[3]!, anchor);
    expect(topAfter - topBefore).toBe(45);
  });

  it("never scrolls above the top", () => {
    expect(anchoredScrollTop(10, { key: "a", offset: 50 })).toBe(0);
  });

  it("counts the end of the list as visible within a little slack", () => {
    expect(isAtBottom(900, 100, 1000)).toBe(true);
    expect(isAtBottom(880, 100, 1000)).toBe(true);
    expect(isAtBottom(800, 100, 1000)).toBe(false);
  });
});
