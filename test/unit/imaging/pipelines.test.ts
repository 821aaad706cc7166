import { describe, expect, it } from "vitest";
import { contentHash, resultCacheKey } from "~/imaging/edit-product-image";
import {
  DEFAULT_PIPELINE_SETTINGS,
  PIPELINE_IDS,
  getPipeline,
  isPipelineId,
  parsePipelineSettings,
  resolveOutputFormat,
  resolvePipeline,
} from "~/imaging/pipelines";

describe("pipelines", () => {
  it("knows exactly amazon, ebay and instagram", () => {
    expect(PIPELINE_IDS).toEqual(["amazon", "ebay", "instagram"]);
    expect(isPipelineId("ebay")).toBe(true);
    expect(isPipelineId("etsy")).toBe(false);
    for (const id of PIPELINE_IDS) expect(getPipeline(id).rules.length).toBeGreaterThan(2);
  });

  it("always gives Amazon a pure white, square 2000 px frame whatever the colour setting", () => {
    const resolved = resolvePipeline("amazon", { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#FF0000" });
    expect(resolved.background).toEqual([255, 255, 255]);
    expect(resolved.canvas).toEqual({ kind: "fixed", size: { width: 2000, height: 2000 } });
    expect(resolved.prompt).toMatch(/pure white/);
  });

  it("uses the merchant's colour on eBay only when it is light", () => {
    expect(resolvePipeline("ebay", { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#F5F5F0" }).backgroundHex).toBe("#F5F5F0");
    expect(resolvePipeline("ebay", { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#202020" }).backgroundHex).toBe("#FFFFFF");
  });

  it("asks Qwen for an eBay output with the source's aspect ratio, within DashScope's 512..2048", () => {
    const size = resolvePipeline("ebay", DEFAULT_PIPELINE_SETTINGS, { width: 4000, height: 1000 }).qwenSize;
    expect(size.width / size.height).toBeCloseTo(2, 1);
    expect(Math.min(size.width, size.height)).toBeGreaterThanOrEqual(512);
    expect(Math.max(size.width, size.height)).toBeLessThanOrEqual(2048);
  });

  it("frames Instagram at 1080 x 1350 or 1080 x 1080", () => {
    expect(resolvePipeline("instagram", DEFAULT_PIPELINE_SETTINGS).checks.exactSize).toEqual({ width: 1080, height: 1350 });
    expect(resolvePipeline("instagram", { ...DEFAULT_PIPELINE_SETTINGS, instagramAspect: "square" }).checks.exactSize).toEqual({
      width: 1080,
      height: 1080,
    });
  });

  it("keeps the original's file type when the pipeline allows it", () => {
    expect(resolveOutputFormat("amazon", "png")).toBe("png");
    expect(resolveOutputFormat("amazon", "webp")).toBe("jpeg");
    expect(resolveOutputFormat("ebay", "webp")).toBe("webp");
    expect(resolveOutputFormat("instagram", "gif")).toBe("jpeg");
  });

  it("parses settings with defaults and a clear message for a bad colour", () => {
    expect(parsePipelineSettings({ backgroundColor: "#abcdef" })).toEqual({ ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#ABCDEF" });
    expect(() => parsePipelineSettings({ backgroundColor: "white" })).toThrow(/#FFFFFF/);
  });
});

describe("result cache key", () => {
  const hash = contentHash(Buffer.from("product photo"));

  it("is a sha256 of the bytes", () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash(Buffer.from("product photo"))).toBe(hash);
  });

  it("is the same for settings the pipeline ignores, so the same image is not paid for twice", () => {
    const base = resultCacheKey(hash, "amazon", DEFAULT_PIPELINE_SETTINGS);
    expect(resultCacheKey(hash, "amazon", { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#123456", instagramAspect: "square" })).toBe(
      base,
    );
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs by source, pipeline and settings that change the output", () => {
    const base = resultCacheKey(hash, "instagram", DEFAULT_PIPELINE_SETTINGS);
    expect(resultCacheKey(contentHash(Buffer.from("other")), "instagram", DEFAULT_PIPELINE_SETTINGS)).not.toBe(base);
    expect(resultCacheKey(hash, "ebay", DEFAULT_PIPELINE_SETTINGS)).not.toBe(base);
    expect(resultCacheKey(hash, "instagram", { ...DEFAULT_PIPELINE_SETTINGS, instagramAspect: "square" })).not.toBe(base);
    expect(resultCacheKey(hash, "instagram", { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#FBE9E7" })).not.toBe(base);
  });
});
