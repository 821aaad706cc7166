import { describe, expect, it } from "vitest";
import { estimateEtaSeconds } from "~/models/batches.server";
import { throttleDelayMs } from "~/models/catalog.server";

const t0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);

describe("estimateEtaSeconds", () => {
  it("projects the remaining items at the observed rate", () => {
    // 4 finished in the first 20 s => 0.2 items/s; 6 left => 30 s.
    const items = [
      ...Array.from({ length: 4 }, (_, i) => ({ state: "PUBLISHED" as const, startedAt: at(i), finishedAt: at(5 * (i + 1)) })),
      ...Array.from({ length: 6 }, () => ({ state: "QUEUED" as const, startedAt: null, finishedAt: null })),
    ];
    expect(estimateEtaSeconds(items, at(20))).toBe(30);
  });

  it("has no estimate before anything finished, nor when nothing is left", () => {
    expect(estimateEtaSeconds([{ state: "PROCESSING", startedAt: at(0), finishedAt: null }], at(10))).toBeNull();
    expect(estimateEtaSeconds([{ state: "PUBLISHED", startedAt: at(0), finishedAt: at(3) }], at(10))).toBeNull();
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
