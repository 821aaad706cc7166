import { describe, expect, it } from "vitest";
import { close, dilate, erode, erodeDiamond, open } from "~/imaging/morphology";

/** A mask from rows of "#" (set) and "." (unset), and back. */
const maskOf = (rows: string[]) => ({
  mask: Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0)),
  width: rows[0]!.length,
  height: rows.length,
});
const rowsOf = (mask: Uint8Array, width: number) =>
  Array.from({ length: mask.length / width }, (_, y) =>
    Array.from(mask.subarray(y * width, (y + 1) * width), (v) => (v ? "#" : ".")).join(""),
  );

describe("square morphology", () => {
  it("keeps a product cut by the frame up to the frame when the square is clipped, and erodes it there otherwise", () => {
    // A product running off the left edge of the frame.
    const { mask, width, height } = maskOf([".....", "###..", "###..", "###..", "....."]);
    expect(rowsOf(erode(mask, width, height, 1, "ignored"), width)).toEqual([".....", ".....", "##...", ".....", "....."]);
    expect(rowsOf(erode(mask, width, height, 1, "unset"), width)).toEqual([".....", ".....", ".#...", ".....", "....."]);
  });

  it("dilates within the frame, fills a gap two px wide and opens away a spur one px wide", () => {
    const notched = maskOf(["......", ".####.", ".#..#.", ".####.", "......"]);
    expect(rowsOf(dilate(notched.mask, notched.width, notched.height, 1), notched.width)).toEqual([
      "######",
      "######",
      "######",
      "######",
      "######",
    ]);
    // The gap inside is closed; the outline's own px, eroded against the frame, stay as they were.
    expect(rowsOf(close(notched.mask, notched.width, notched.height, 1), notched.width)).toEqual([
      "......",
      ".####.",
      ".####.",
      ".####.",
      "......",
    ]);
    const spur = maskOf([".......", ".###...", ".######", ".###...", "......."]);
    expect(rowsOf(open(spur.mask, spur.width, spur.height, 1), spur.width)).toEqual([
      ".......",
      ".###...",
      ".###...",
      ".###...",
      ".......",
    ]);
  });

  it("erodes by a diamond without touching its input", () => {
    const { mask, width, height } = maskOf([".......", ".#####.", ".#####.", ".#####.", ".#####.", ".#####.", "......."]);
    const before = Uint8Array.from(mask);
    expect(rowsOf(erodeDiamond(mask, width, height, 2), width)).toEqual([
      ".......",
      ".......",
      ".......",
      "...#...",
      ".......",
      ".......",
      ".......",
    ]);
    expect(erodeDiamond(mask, width, height, 0)).toEqual(before);
    expect(mask).toEqual(before);
  });
});
