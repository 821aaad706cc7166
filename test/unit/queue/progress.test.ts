import { describe, expect, it } from "vitest";
import { fairShareEtaSeconds } from "~/models/batches.server";
import { throttleDelayMs } from "~/lib/admin-graphql.server";

describe("fairShareEtaSeconds", () => {
  const load = (remaining: Record<string, number>, imagesPerSecond: number | null) => ({
    remainingByShop: new Map(Object.entries(remaining)),
    imagesPerSecond,
  });

  it("counts, before a shop's last image, its own and as many of every other shop's as it has left", () => {
    // 10 of mine + min(5000, 10) + min(3, 10) = 23 images at 2/s.
    expect(fairShareEtaSeconds("mine", load({ mine: 10, big: 5000, small: 3 }, 2))).toBe(12);
  });

  it("is not held up by another shop's backlog beyond one image per round", () => {
    expect(fairShareEtaSeconds("mine", load({ mine: 1, big: 5000 }, 0.5))).toBe(4);
    expect(fairShareEtaSeconds("big", load({ mine: 1, big: 5000 }, 0.5))).toBe(10_002);
  });

  it("has no estimate when nothing is left or the pace is not known yet", () => {
    expect(fairShareEtaSeconds("mine", load({ other: 4 }, 2))).toBeNull();
    expect(fairShareEtaSeconds("mine", load({ mine: 4 }, null))).toBeNull();
  });
});

describe("throttleDelayMs", () => {
  it("waits for the bucket to hold the requested cost: (requested - available) / restoreRate", () => {
    expect(
      throttleDelayMs({ requestedQueryCost: 502, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 2, restoreRate: 50 } }),
    ).toBe(10_000);
  });

  it("falls back when Shopify sends no cost", () => {
    expect(throttleDelayMs(undefined, 1234)).toBe(1234);
  });
});
