import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editProductImage } from "~/imaging/edit-product-image";
import { DEFAULT_PIPELINE_SETTINGS, type InstagramAspect } from "~/imaging/pipelines";
import { mapConcurrent, range, renderFixture, startQwenStandIn, type QwenStandIn } from "./harness";

// 40 images through the stand-in, post-processing and both checks: ~1 s of CPU each.
const SET_TIMEOUT_MS = 300_000;

describe("instagram pipeline on 40 generated product photos", () => {
  let standIn: QwenStandIn;
  beforeAll(async () => {
    standIn = await startQwenStandIn({ seed: 13 });
  });
  afterAll(async () => {
    await standIn.emulator.close();
  });

  it(
    "passes every Instagram rule in 4:5 and 1:1, on the merchant's backdrop colour",
    async () => {
      const outcomes = await mapConcurrent(range(40), 2, async (index) => {
        const aspect: InstagramAspect = index % 2 === 0 ? "portrait" : "square";
        const settings = { ...DEFAULT_PIPELINE_SETTINGS, instagramAspect: aspect, backgroundColor: "#FBE9E7" };
        const { source } = await renderFixture(index);
        const result = await editProductImage({ source, pipeline: "instagram", settings, editor: standIn.client });
        return {
          index,
          aspect,
          failed: result.compliance.rules.filter((rule) => !rule.passed).map((rule) => `${rule.id}: ${rule.measured}`),
          size: `${result.width}x${result.height}`,
        };
      });
      expect(outcomes.filter((o) => o.failed.length > 0)).toEqual([]);
      for (const o of outcomes) expect(o.size).toBe(o.aspect === "portrait" ? "1080x1350" : "1080x1080");
    },
    SET_TIMEOUT_MS,
  );
});
