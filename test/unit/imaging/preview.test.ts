import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeOutput } from "~/imaging/compliance";
import { DEFAULT_PIPELINE_SETTINGS, resolvePipeline } from "~/imaging/pipelines";
import { postProcessEdit } from "~/imaging/postprocess";
import { describePreview } from "~/imaging/preview";

const product = (background: string) =>
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024">${background}
    <rect x="300" y="250" width="250" height="560" rx="20" fill="#2471a3"/><rect x="330" y="460" width="190" height="100" fill="#fff"/></svg>`);

describe("describePreview (the copy the alt text is written from)", () => {
  it("is the same JPEG from the compliance check's decoded pixels as from the processed file", async () => {
    const edited = await sharp(product(`<rect width="100%" height="100%" fill="#f6f5f1"/>`)).png().toBuffer();
    for (const format of ["jpeg", "png", "webp"] as const) {
      const output = await postProcessEdit(edited, resolvePipeline("ebay", DEFAULT_PIPELINE_SETTINGS), format);
      const decoded = await decodeOutput(output.bytes);
      expect(decoded.plain).toBe(true);
      const fromPixels = await describePreview(decoded);
      expect(fromPixels.equals(await describePreview(output.bytes))).toBe(true);
      const { format: previewFormat, width, height } = await sharp(fromPixels).metadata();
      expect([previewFormat, Math.max(width, height)]).toEqual(["jpeg", 768]);
    }
  });

  it("is not made from the check's pixels of a transparent file (they lie on black, the preview's on white)", async () => {
    const transparent = await sharp(product("")).png().toBuffer();
    expect((await decodeOutput(transparent)).plain).toBe(false);
  });
});
