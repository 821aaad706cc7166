import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelInputFor } from "~/imaging/edit-product-image";
import { DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { defaultCorpusDir, loadCorpus, readCorpusEntry, type RealPhotoCorpus } from "../../../emulators/dashscope/real-photo-edit";
import { productImageSpec, renderProductImage } from "../../../emulators/fixtures/product-images";
import { startQwenStandIn, type QwenStandIn } from "../imaging/harness";

const SIZE = { width: 1024, height: 1024 };

/** Pixel (x, y) of an image, as [r, g, b]. */
async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    at: (x: number, y: number) => [0, 1, 2].map((c) => data[(y * info.width + x) * 3 + c]!),
    width: info.width,
    height: info.height,
  };
}

describe("DashScope stand-in with the real-photo corpus", () => {
  let corpus: RealPhotoCorpus;
  let standIn: QwenStandIn;
  beforeAll(async () => {
    corpus = await loadCorpus();
    standIn = await startQwenStandIn({ realPhotos: defaultCorpusDir(), seed: 3, alterProduct: false });
  });
  afterAll(() => standIn.emulator.close());

  it("recognises a corpus photo the app resized and re-encoded, and returns the product on an off-white backdrop", async () => {
    const entry = corpus.entries.find((e) => e.category === "t-shirt")!;
    const { photo } = await readCorpusEntry(corpus, entry);
    // The app sends the model a larger re-encoded copy; the stand-in must still know the photo.
    const { modelInput } = await modelInputFor(photo, "amazon", { ...DEFAULT_PIPELINE_SETTINGS, outputSizePreset: "large" });
    const { image } = await standIn.client.edit({
      image: modelInput.image,
      mimeType: modelInput.mimeType,
      prompt: "p",
      negativePrompt: "n",
      size: SIZE,
    });
    const edit = await pixels(image);
    expect([edit.width, edit.height]).toEqual([SIZE.width, SIZE.height]);
    for (const [x, y] of [
      [2, 2],
      [edit.width - 3, 2],
      [2, edit.height - 3],
      [edit.width - 3, edit.height - 3],
    ] as const) {
      for (const v of edit.at(x, y)) {
        expect(v).toBeGreaterThanOrEqual(246);
        expect(v).toBeLessThanOrEqual(253);
      }
    }
    // The photo's own background (a floor, a bed) is gone: the product sits centred on the backdrop.
    const centre = edit.at(edit.width / 2, edit.height / 2);
    expect(Math.min(...centre)).toBeLessThan(240);
  });

  it("edits an input that is not a corpus photo as before (the generated-render model)", async () => {
    const source = await renderProductImage(productImageSpec(0));
    const { modelInput } = await modelInputFor(source, "amazon", DEFAULT_PIPELINE_SETTINGS);
    const before = await startQwenStandIn({ seed: 3 });
    try {
      const edit = (s: QwenStandIn) =>
        s.client.edit({ image: modelInput.image, mimeType: modelInput.mimeType, prompt: "p", negativePrompt: "n", size: SIZE });
      const [withCorpus, without] = await Promise.all([edit(standIn), edit(before)]);
      expect(withCorpus.image.equals(without.image)).toBe(true);
    } finally {
      await before.emulator.close();
    }
  });

  it("edits a corpus photo the same way whatever other photos it edited before (a run's figures repeat)", async () => {
    const [first, second] = corpus.entries.filter((e) => e.category === "shirt");
    const inputOf = async (entry: typeof first) =>
      (await modelInputFor((await readCorpusEntry(corpus, entry!)).photo, "amazon", DEFAULT_PIPELINE_SETTINGS)).modelInput;
    const [a, b] = [await inputOf(first), await inputOf(second)];
    const edit = (input: typeof a) =>
      standIn.client.edit({ image: input.image, mimeType: input.mimeType, prompt: "p", negativePrompt: "n", size: SIZE });
    const alone = await edit(a);
    await edit(b);
    const afterAnother = await edit(a);
    expect(afterAnother.image.equals(alone.image)).toBe(true);
  });
});
