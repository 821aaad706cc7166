import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editProductImage } from "~/imaging/edit-product-image";
import { ImageInputError } from "~/imaging/errors";
import { inspectImage } from "~/imaging/inspect";
import { DEFAULT_PIPELINE_SETTINGS } from "~/imaging/pipelines";
import { productImageSpec, renderProductImage } from "../../../emulators/fixtures/product-images";
import { startQwenStandIn, type QwenStandIn } from "./harness";

let standIn: QwenStandIn;
let photo: Buffer;
beforeAll(async () => {
  standIn = await startQwenStandIn({ seed: 31 });
  // A portrait bottle: any rotation or frame mix-up shows in the fidelity check.
  photo = await renderProductImage({ ...productImageSpec(0), width: 900, height: 1200, format: "jpeg" });
});
afterAll(async () => {
  await standIn.emulator.close();
});

const edit = (source: Buffer) =>
  editProductImage({ source, pipeline: "amazon", settings: DEFAULT_PIPELINE_SETTINGS, editor: standIn.client });

async function expectRefused(source: Buffer, code: string, wording: RegExp): Promise<void> {
  const before = standIn.emulator.stats().requests;
  const error = await edit(source).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageInputError);
  expect((error as ImageInputError).defect).toBe(code);
  expect((error as ImageInputError).merchantMessage).toMatch(wording);
  // Refused before anything was paid for.
  expect(standIn.emulator.stats().requests).toBe(before);
}

async function expectGoodResult(source: Buffer): Promise<void> {
  const result = await edit(source);
  expect(result.compliance.rules.filter((r) => !r.passed)).toEqual([]);
  expect(result.fidelity.verdict).toBe("unchanged");
}

/** A PNG that declares a size in its header and carries no pixel data worth the name. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, "latin1"), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(16))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("editProductImage on bad or unusual source files", () => {
  it("refuses zero bytes", async () => {
    await expectRefused(Buffer.alloc(0), "empty", /empty/);
  });

  it("refuses a truncated JPEG", async () => {
    await expectRefused(photo.subarray(0, Math.floor(photo.length * 0.6)), "truncated", /incomplete/);
  });

  it("refuses a text file named .jpg", async () => {
    await expectRefused(Buffer.from("name,price\nmug,12.00\n"), "unsupported-format", /text, not an image/);
  });

  it("refuses an SVG", async () => {
    const svg = Buffer.from(
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="800" height="800"><rect width="800" height="800"/></svg>',
    );
    await expectRefused(svg, "unsupported-format", /SVG/);
  });

  it("refuses a 30000 x 30000 PNG from its header, before decoding anything", async () => {
    await expectRefused(pngHeaderOnly(30000, 30000), "too-many-pixels", /megapixels/);
  });

  it("refuses a 1 x 1 image", async () => {
    const dot = await sharp({ create: { width: 1, height: 1, channels: 3, background: "#ff0000" } })
      .png()
      .toBuffer();
    await expectRefused(dot, "too-small", /at least/);
  });

  it("edits the first frame of an animated GIF", async () => {
    const frame = await sharp(photo).resize(450, 600).gif().toBuffer();
    const blank = await sharp({ create: { width: 450, height: 600, channels: 3, background: "#000000" } })
      .gif()
      .toBuffer();
    const animated = await sharp([frame, blank], { join: { animated: true } })
      .gif({ loop: 0, delay: [500, 500] })
      .toBuffer();
    expect((await inspectImage(animated)).pages).toBe(2);
    await expectGoodResult(animated);
  });

  it("edits a CMYK JPEG", async () => {
    const cmyk = await sharp(photo).toColourspace("cmyk").jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe("cmyk");
    await expectGoodResult(cmyk);
  });

  it("edits a 16-bit PNG with alpha", async () => {
    const rgba16 = await sharp(photo).ensureAlpha(1).toColourspace("rgb16").png().toBuffer();
    const metadata = await sharp(rgba16).metadata();
    expect([metadata.depth, metadata.hasAlpha]).toEqual(["ushort", true]);
    await expectGoodResult(rgba16);
  });

  it("applies the EXIF orientation of a rotated JPEG", async () => {
    // Pixels stored sideways with orientation 6 display upright, as a 900 x 1200 portrait.
    const sideways = await sharp(photo).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const info = await inspectImage(sideways);
    expect([info.width, info.height]).toEqual([900, 1200]);
    await expectGoodResult(sideways);
  });
});
