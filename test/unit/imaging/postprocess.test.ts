import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { checkCompliance } from "~/imaging/compliance";
import { ImageResultError } from "~/imaging/errors";
import { checkFidelity } from "~/imaging/fidelity";
import { DEFAULT_PIPELINE_SETTINGS, resolvePipeline } from "~/imaging/pipelines";
import { postProcessEdit } from "~/imaging/postprocess";

/** A model-like output: an off-white, slightly graded backdrop with a faint shadow and an off-centre product. */
async function modelLikeOutput(options: { width?: number; height?: number; transparent?: boolean } = {}): Promise<Buffer> {
  const width = options.width ?? 1024;
  const height = options.height ?? 1024;
  const backdrop = options.transparent
    ? ""
    : `<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f8f7f3"/><stop offset="1" stop-color="#f1f0ec"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${backdrop}
    <ellipse cx="${width * 0.42}" cy="${height * 0.8}" rx="${width * 0.2}" ry="${height * 0.02}" fill="#000" opacity="0.05"/>
    <rect x="${width * 0.3}" y="${height * 0.25}" width="${width * 0.24}" height="${height * 0.55}" rx="20" fill="#2471a3"/>
    <rect x="${width * 0.32}" y="${height * 0.45}" width="${width * 0.2}" height="${height * 0.1}" fill="#ffffff"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

describe("postProcessEdit", () => {
  it("makes an Amazon image: exact white border, product at ~88% of a square 2000 px frame", async () => {
    const output = await postProcessEdit(await modelLikeOutput(), resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS), "jpeg");
    expect([output.width, output.height, output.mimeType]).toEqual([2000, 2000, "image/jpeg"]);
    const report = await checkCompliance(output.bytes, "amazon");
    expect(report.rules.filter((r) => !r.passed)).toEqual([]);
    expect(report.rules.find((r) => r.id === "background")!.measured).toMatch(/^100\.00%/);
    expect(Math.max(output.productBox.width, output.productBox.height) / 2000).toBeCloseTo(0.88, 2);
    // Centred: the product's box is in the middle of the frame.
    expect(Math.abs(output.productBox.left + output.productBox.width / 2 - 1000)).toBeLessThanOrEqual(2);
  });

  it("keeps the white label inside the product (it is not background)", async () => {
    const output = await postProcessEdit(
      await modelLikeOutput(),
      resolvePipeline("ebay", { ...DEFAULT_PIPELINE_SETTINGS, backgroundColor: "#E8F0E8" }),
      "png",
    );
    const { data, info } = await sharp(output.bytes).raw().toBuffer({ resolveWithObject: true });
    const centre = ((info.height / 2) * info.width + info.width / 2) * info.channels;
    expect([data[centre], data[centre + 1], data[centre + 2]]).toEqual([255, 255, 255]);
    const corner = 0;
    expect([data[corner], data[corner + 1], data[corner + 2]]).toEqual([0xe8, 0xf0, 0xe8]);
  });

  it("strips metadata except the sRGB profile", async () => {
    const withExif = await sharp(await modelLikeOutput())
      .withMetadata({ orientation: 1 })
      .withExif({ IFD0: { Copyright: "Model" } })
      .png()
      .toBuffer();
    const output = await postProcessEdit(withExif, resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS), "jpeg");
    const metadata = await sharp(output.bytes).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.icc).toBeDefined();
  });

  it("handles a transparent model output as background", async () => {
    const output = await postProcessEdit(
      await modelLikeOutput({ transparent: true }),
      resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS),
      "jpeg",
    );
    expect((await checkCompliance(output.bytes, "amazon")).passed).toBe(true);
  });

  it("is deterministic", async () => {
    const input = await modelLikeOutput({ width: 900, height: 1100 });
    const pipeline = resolvePipeline("instagram", DEFAULT_PIPELINE_SETTINGS);
    const [a, b] = await Promise.all([postProcessEdit(input, pipeline, "jpeg"), postProcessEdit(input, pipeline, "jpeg")]);
    expect(a.bytes.equals(b.bytes)).toBe(true);
  });

  it("keeps the product's edges crisp when it enlarges the product to fill the frame", async () => {
    // The label's left edge, across a row through the label: how many px the rise from blue to white takes.
    const edgeRise = async (modelSide: number) => {
      const output = await postProcessEdit(
        await modelLikeOutput({ width: modelSide, height: modelSide }),
        resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS),
        "png",
      );
      const { data, info } = await sharp(output.bytes).raw().toBuffer({ resolveWithObject: true });
      const box = output.productBox;
      // The label spans 0.45-0.55 of the model output's height; the product 0.25-0.80.
      const y = Math.round(box.top + (box.height * (0.5 - 0.25)) / 0.55);
      const reds: number[] = [];
      for (let x = Math.round(box.left + box.width * 0.03); x < box.left + box.width * 0.2; x++)
        reds.push(data[(y * info.width + x) * info.channels]!);
      const [low, high] = [Math.min(...reds), Math.max(...reds)];
      const first = reds.findIndex((v) => v > low + 0.1 * (high - low));
      const last = reds.findIndex((v) => v > low + 0.9 * (high - low));
      return { rise: last - first, enlargement: box.height / (0.55 * modelSide) };
    };
    const mild = await edgeRise(2048);
    const strong = await edgeRise(1024);
    expect(mild.enlargement).toBeGreaterThan(1.4);
    expect(strong.enlargement).toBeGreaterThan(3);
    // A sharp edge spreads over about one model pixel's worth of output pixels, no more.
    expect(mild.rise).toBeLessThanOrEqual(2);
    expect(strong.rise).toBeLessThanOrEqual(3);
  });

  it("says so when the model returned no product", async () => {
    const blank = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: "#f7f7f5" } })
      .png()
      .toBuffer();
    await expect(postProcessEdit(blank, resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS), "jpeg")).rejects.toBeInstanceOf(
      ImageResultError,
    );
  });
});

describe("checkCompliance", () => {
  it("reports each failed rule with the measured value", async () => {
    // Off-white background, small product, wrong size, WebP.
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="700"><rect width="100%" height="100%" fill="#f4f4f4"/><rect x="400" y="300" width="100" height="100" fill="#c0392b"/></svg>`;
    const bad = await sharp(Buffer.from(svg)).webp({ quality: 95 }).toBuffer();
    const report = await checkCompliance(bad, "amazon");
    const byId = Object.fromEntries(report.rules.map((r) => [r.id, r]));
    expect(report.passed).toBe(false);
    expect(byId.format).toMatchObject({ passed: false, measured: "WebP" });
    expect(byId.size).toMatchObject({ passed: false, measured: "900 × 700 px" });
    expect(byId.aspect!.passed).toBe(false);
    expect(byId.background).toMatchObject({ passed: false, measured: "0.00% of border pixels match" });
    expect(byId.coverage!.passed).toBe(false);
    expect(byId.coverage!.measured).toMatch(/^14\.\d%$/);
  });

  it("fails an image with a stray mark on the background, and passes a product in two parts", async () => {
    const frame = (parts: string) =>
      sharp(
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="2000"><rect width="100%" height="100%" fill="#fff"/>${parts}</svg>`,
        ),
      )
        .jpeg({ quality: 90 })
        .toBuffer();
    // A pair of shoes: two parts of about the same size, 88% of the frame together.
    const shoes = `<rect x="120" y="500" width="860" height="900" fill="#5b3a29"/><rect x="1020" y="500" width="860" height="900" fill="#5b3a29"/>`;
    const pair = await checkCompliance(await frame(shoes), "amazon");
    expect(pair.rules.find((r) => r.id === "clean-background")).toMatchObject({ passed: true, measured: "none" });
    expect(pair.passed).toBe(true);
    // The same with a crumb in the top corner (inside the margin, so every other rule still passes).
    const crumb = await checkCompliance(await frame(`${shoes}<circle cx="1940" cy="60" r="12" fill="#3a2a1a"/>`), "amazon");
    expect(crumb.rules.filter((r) => !r.passed).map((r) => [r.id, r.measured])).toEqual([
      ["clean-background", "1 stray mark away from the product"],
    ]);
  });

  it("passes a letter on a white label inside the product, and fails a speck beside the product inside its box", async () => {
    const frame = (parts: string) =>
      sharp(
        Buffer.from(
          `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="2000"><rect width="100%" height="100%" fill="#fff"/>${parts}</svg>`,
        ),
      )
        .jpeg({ quality: 90 })
        .toBuffer();
    // A jar whose white label (the background's own colour) carries a letter far from the jar's coloured body.
    const jar = `<rect x="200" y="150" width="1600" height="1700" rx="120" fill="#23824a"/><rect x="260" y="600" width="1480" height="700" fill="#fff"/>`;
    const letter = `<rect x="960" y="900" width="80" height="100" fill="#23824a"/>`;
    const labelled = await checkCompliance(await frame(`${jar}${letter}`), "amazon");
    expect(labelled.rules.find((r) => r.id === "clean-background")).toMatchObject({ passed: true, measured: "none" });
    // A hat's crown with a speck to its right: inside the hat's box, far from the hat, nothing beyond it.
    const hat = `<rect x="120" y="700" width="1760" height="1150" fill="#5b3a29"/><rect x="700" y="150" width="600" height="560" fill="#5b3a29"/>`;
    const speck = `<circle cx="1650" cy="400" r="14" fill="#3a2a1a"/>`;
    const specked = await checkCompliance(await frame(`${hat}${speck}`), "amazon");
    expect(specked.rules.find((r) => r.id === "clean-background")).toMatchObject({
      passed: false,
      measured: "1 stray mark away from the product",
    });
  });

  it("fails a product cut off at the edge", async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="2000"><rect width="100%" height="100%" fill="#fff"/><rect x="200" y="0" width="1700" height="1750" fill="#2471a3"/></svg>`;
    const report = await checkCompliance(await sharp(Buffer.from(svg)).jpeg().toBuffer(), "amazon");
    expect(report.rules.find((r) => r.id === "not-cropped")!.passed).toBe(false);
  });
});

describe("checkFidelity", () => {
  it("finds the same product unchanged after reframing, and flags a recoloured label", async () => {
    const original = await modelLikeOutput();
    const reframed = (await postProcessEdit(original, resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS), "jpeg")).bytes;
    expect((await checkFidelity(original, reframed)).verdict).toBe("unchanged");

    const tampered = await sharp(reframed)
      .composite([
        {
          input: Buffer.from(
            `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="2000"><rect x="700" y="800" width="500" height="250" fill="#e67e22"/></svg>`,
          ),
        },
      ])
      .jpeg()
      .toBuffer();
    const report = await checkFidelity(original, tampered);
    expect(report.verdict).toBe("altered");
    expect(report.score).toBeLessThan(report.threshold);
    expect(report.message).toMatch(/may have been altered/);
  });
});
