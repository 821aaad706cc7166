import { describe, expect, it } from "vitest";
import { readFraming } from "~/components/batch/report-model";
import { cutOffMessage } from "~/imaging/cutoff";

describe("readFraming", () => {
  it("shows the notice of an original cut off at its frame, naming the edges", () => {
    const message = cutOffMessage(["bottom", "left"]);
    expect(message).toBe(
      "The original photo shows only part of the product (cut off at the bottom and the left); the result may look cropped. Use a photo that shows the whole product for a complete result.",
    );
    expect(readFraming({ edges: ["bottom", "left"], runs: { top: 0, bottom: 0.4, left: 0.2, right: 0 }, message })).toEqual({
      edges: ["bottom", "left"],
      message,
    });
  });

  it("shows nothing for a whole product, an item checked before framing existed, or a malformed report", () => {
    expect(readFraming({ edges: [], runs: { top: 0, bottom: 0, left: 0, right: 0 }, message: null })).toBeNull();
    expect(readFraming(null)).toBeNull();
    expect(readFraming({ edges: "bottom", message: 3 })).toBeNull();
  });
});
