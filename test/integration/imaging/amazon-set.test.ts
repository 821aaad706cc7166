import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editProductImage } from "~/imaging/edit-product-image";
import { DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { mapConcurrent, range, renderFixture, startQwenStandIn, type QwenStandIn } from "./harness";

// 40 images through the stand-in, post-processing and both checks: ~1 s of CPU each.
const SET_TIMEOUT_MS = 300_000;

describe("amazon pipeline on 40 generated product photos", () => {
  let standIn: QwenStandIn;
  beforeAll(async () => {
    standIn = await startQwenStandIn({ seed: 11 });
  });
  afterAll(async () => {
    await standIn.emulator.close();
  });

  it(
    "turns every model output into an image that passes every Amazon rule",
    async () => {
      const outcomes = await mapConcurrent(range(40), 2, async (index) => {
        const { spec, source, mimeType } = await renderFixture(index);
        const result = await editProductImage({
          source,
          sourceMimeType: mimeType,
          pipeline: "amazon",
          settings: DEFAULT_PIPELINE_SETTINGS,
          editor: standIn.client,
        });
        // An independent look at the bytes: the outermost rows and columns are exactly white.
        const { data, info } = await sharp(result.bytes).raw().toBuffer({ resolveWithObject: true });
        const offWhite = (x: number, y: number) => {
          const o = (y * info.width + x) * info.channels;
          return data[o] !== 255 || data[o + 1] !== 255 || data[o + 2] !== 255 ? 1 : 0;
        };
        const offWhiteEdgePixels = { top: 0, bottom: 0, left: 0, right: 0 };
        for (let x = 0; x < info.width; x++) {
          offWhiteEdgePixels.top += offWhite(x, 0);
          offWhiteEdgePixels.bottom += offWhite(x, info.height - 1);
        }
        for (let y = 0; y < info.height; y++) {
          offWhiteEdgePixels.left += offWhite(0, y);
          offWhiteEdgePixels.right += offWhite(info.width - 1, y);
        }
        return {
          index,
          format: spec.format,
          failed: result.compliance.rules.filter((rule) => !rule.passed).map((rule) => `${rule.id}: ${rule.measured}`),
          mimeType: result.mimeType,
          size: `${result.width}x${result.height}`,
          offWhiteEdgePixels,
        };
      });

      expect(outcomes.filter((o) => o.failed.length > 0)).toEqual([]);
      expect(outcomes.filter((o) => Object.values(o.offWhiteEdgePixels).some((count) => count > 0))).toEqual([]);
      expect(new Set(outcomes.map((o) => o.size))).toEqual(new Set(["2000x2000"]));
      // A PNG stays a PNG (same file type for the write-back); everything else becomes a JPEG.
      for (const o of outcomes) expect(o.mimeType).toBe(o.format === "png" ? "image/png" : "image/jpeg");
    },
    SET_TIMEOUT_MS,
  );
});
