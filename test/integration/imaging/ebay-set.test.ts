import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editProductImage } from "~/imaging/edit-product-image";
import { DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { mapConcurrent, range, renderFixture, startQwenStandIn, type QwenStandIn } from "./harness";

// 40 images through the stand-in, post-processing and both checks: ~1 s of CPU each.
const SET_TIMEOUT_MS = 300_000;

describe("ebay pipeline on 40 generated product photos", () => {
  let standIn: QwenStandIn;
  beforeAll(async () => {
    standIn = await startQwenStandIn({ seed: 12 });
  });
  afterAll(async () => {
    await standIn.emulator.close();
  });

  it(
    "passes every eBay rule, on a light background colour of the merchant's choice",
    async () => {
      const settings = { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#F5F5F0" };
      const outcomes = await mapConcurrent(range(40), 2, async (index) => {
        const { source } = await renderFixture(index);
        const result = await editProductImage({ source, pipeline: "ebay", settings, editor: standIn.client });
        return {
          index,
          failed: result.compliance.rules.filter((rule) => !rule.passed).map((rule) => `${rule.id}: ${rule.measured}`),
          longest: Math.max(result.width, result.height),
          background: result.compliance.rules.find((rule) => rule.id === "background")?.label,
        };
      });
      expect(outcomes.filter((o) => o.failed.length > 0)).toEqual([]);
      for (const o of outcomes) {
        expect(o.longest).toBe(1600);
        expect(o.background).toContain("#F5F5F0");
      }
    },
    SET_TIMEOUT_MS,
  );
});
