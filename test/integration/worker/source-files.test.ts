// Source files of every kind a store holds, through the whole worker path (staged upload into the Shopify stand-in,
// createBatch, worker, DashScope stand-in, write-back), judged by this test's own pixel reads of the image the
// product shows afterwards against the sRGB original it rendered, never by the app's own checks: a colour or
// orientation error made before the model would pass those on both sides.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatch, getBatchProgress } from "~/models/batches.server";
import { seedProductPhotos, type SeedPhoto } from "../../../emulators/shopify-admin/seed-products";
import { offlineAdmin, startHarness, type Harness } from "../batches/harness";

// The original: a tall product (brick red) on a pale backdrop, with a teal marker in its upper left corner.
const FRAME = { width: 900, height: 1200 };
const PRODUCT = { left: 270, top: 200, width: 360, height: 800 };
const MARKER = { left: 300, top: 240, width: 80, height: 80 };
const BODY_RGB = [196, 62, 44] as const;
const MARKER_RGB = [24, 132, 168] as const;
const BACKDROP_RGB = [233, 228, 218] as const;

/** Where the marker's centre lies in the product's box (0..1 each way); a flip or a turn moves it to a mirror place. */
const MARKER_AT = {
  x: (MARKER.left + MARKER.width / 2 - PRODUCT.left) / PRODUCT.width,
  y: (MARKER.top + MARKER.height / 2 - PRODUCT.top) / PRODUCT.height,
};
/** Colour is sampled inside the product away from the marker and the outline. */
const BODY_REGION = { x0: 0.3, x1: 0.7, y0: 0.4, y1: 0.8 };
/**
 * Mean colour within this CIE76 distance of the reference. The pipeline's own differences stay near 2 (the model's
 * exposure, JPEG); a profile ignored or misapplied moves these colours by 8 or more.
 */
const MAX_DELTA_E = 6;

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

const rgb = (c: readonly number[]) => `rgb(${c.join(",")})`;

async function renderOriginal(opts: { transparentBackdrop?: boolean } = {}): Promise<Buffer> {
  const backdrop = opts.transparentBackdrop ? "" : `<rect width="100%" height="100%" fill="${rgb(BACKDROP_RGB)}"/>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${FRAME.width}" height="${FRAME.height}">${backdrop}` +
    `<rect x="${PRODUCT.left}" y="${PRODUCT.top}" width="${PRODUCT.width}" height="${PRODUCT.height}" rx="24" fill="${rgb(BODY_RGB)}"/>` +
    `<rect x="${MARKER.left}" y="${MARKER.top}" width="${MARKER.width}" height="${MARKER.height}" fill="${rgb(MARKER_RGB)}"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function readPixels(bytes: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(bytes).raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** CIE L*a*b* of an 8-bit sRGB colour (sharp's conversion, not the app's). */
async function lab(colour: readonly number[]): Promise<number[]> {
  const { data } = await sharp(Buffer.from(colour.map((v) => Math.round(v))), { raw: { width: 1, height: 1, channels: 3 } })
    .toColourspace("lab")
    .raw({ depth: "float" })
    .toBuffer({ resolveWithObject: true });
  return Array.from(new Float32Array(data.buffer, data.byteOffset, 3));
}

async function deltaE(a: readonly number[], b: readonly number[]): Promise<number> {
  const [la, lb] = await Promise.all([lab(a), lab(b)]);
  return Math.hypot(la[0]! - lb[0]!, la[1]! - lb[1]!, la[2]! - lb[2]!);
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Mean RGB over a part of `box` given in fractions of it. */
function meanRgb(px: Pixels, box: Box, part: { x0: number; x1: number; y0: number; y1: number }): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = Math.round(box.top + part.y0 * box.height); y < Math.round(box.top + part.y1 * box.height); y++) {
    for (let x = Math.round(box.left + part.x0 * box.width); x < Math.round(box.left + part.x1 * box.width); x++) {
      const o = (y * px.width + x) * px.channels;
      for (let c = 0; c < 3; c++) sum[c]! += px.data[o + c]!;
      n++;
    }
  }
  return sum.map((s) => s / n);
}

/** The product's box on a white background: rows and columns with at least 3 pixels clearly not white. */
function productBox(px: Pixels): Box {
  const columns = new Uint32Array(px.width);
  const rows = new Uint32Array(px.height);
  for (let y = 0; y < px.height; y++) {
    for (let x = 0; x < px.width; x++) {
      const o = (y * px.width + x) * px.channels;
      if (Math.max(255 - px.data[o]!, 255 - px.data[o + 1]!, 255 - px.data[o + 2]!) > 48) {
        columns[x]!++;
        rows[y]!++;
      }
    }
  }
  const left = columns.findIndex((c) => c >= 3);
  const top = rows.findIndex((c) => c >= 3);
  return { left, top, width: columns.findLastIndex((c) => c >= 3) - left + 1, height: rows.findLastIndex((c) => c >= 3) - top + 1 };
}

/** Pixels of the outermost rows and columns that are not opaque pure white. */
function offWhiteEdgePixels(px: Pixels): number {
  let count = 0;
  const check = (x: number, y: number) => {
    const o = (y * px.width + x) * px.channels;
    for (let c = 0; c < px.channels; c++) if (px.data[o + c] !== 255) return count++;
  };
  for (let x = 0; x < px.width; x++) {
    check(x, 0);
    check(x, px.height - 1);
  }
  for (let y = 1; y < px.height - 1; y++) {
    check(0, y);
    check(px.width - 1, y);
  }
  return count;
}

const around = (at: { x: number; y: number }) => ({ x0: at.x - 0.06, x1: at.x + 0.06, y0: at.y - 0.03, y1: at.y + 0.03 });

interface SourceCase {
  name: string;
  file: SeedPhoto;
  /** The original as a colour-managed viewer shows this file, upright (the sRGB render, unless said otherwise). */
  reference: Pixels;
}

let h: Harness;
let cases: SourceCase[];

beforeAll(async () => {
  h = await startHarness();
  h.startInProcessWorker({ concurrency: 4 });
  const original = await renderOriginal();
  const upright = await readPixels(await sharp(original).removeAlpha().png().toBuffer());
  const flat = sharp(original).removeAlpha();
  const photo = (name: string, bytes: Buffer, ext: string, mimeType: string): SeedPhoto => ({
    title: `Brick case (${name})`,
    bytes,
    filename: `brick-${name}.${ext}`,
    mimeType,
  });

  // Printers' files: CMYK with the press profile embedded (as Photoshop saves them). That round trip moves colours by
  // 4-12 units whatever the decoder, so the reference is the file as a colour-managed viewer shows it.
  const cmyk = await flat.clone().withIccProfile("cmyk").jpeg({ quality: 92 }).toBuffer();
  // A cut-out product on transparency. Exporters that bleed edge colours outwards leave the product's colour under
  // alpha 0: a decoder that drops alpha instead of compositing shows a frame the colour of the product.
  const { data: rgba } = await sharp(await renderOriginal({ transparentBackdrop: true }))
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  for (let o = 0; o < rgba.length; o += 4) if (rgba[o + 3] === 0) rgba.set(BODY_RGB, o);
  const alpha = await sharp(rgba, { raw: { ...FRAME, channels: 4 } })
    .png()
    .toBuffer();
  // 16-bit PNGs as editors save them, with the working profile embedded.
  const png16 = async (profile: string) =>
    sharp(await flat.clone().withIccProfile(profile).png().toBuffer())
      .keepIccProfile()
      .toColourspace("rgb16")
      .png()
      .toBuffer();
  // A phone photo held upright: pixels stored turned a quarter to the left, EXIF orientation 6 turns them back.
  const exif = await flat.clone().rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 92 }).toBuffer();

  cases = [
    {
      name: "sRGB JPEG",
      file: photo("srgb", await flat.clone().jpeg({ quality: 92 }).toBuffer(), "jpg", "image/jpeg"),
      reference: upright,
    },
    {
      name: "CMYK JPEG",
      file: photo("cmyk", cmyk, "jpg", "image/jpeg"),
      reference: await readPixels(await sharp(cmyk).toColourspace("srgb").png().toBuffer()),
    },
    {
      name: "16-bit PNG",
      file: photo("rgb16", await flat.clone().toColourspace("rgb16").png().toBuffer(), "png", "image/png"),
      reference: upright,
    },
    { name: "16-bit PNG, sRGB profile", file: photo("rgb16-srgb", await png16("srgb"), "png", "image/png"), reference: upright },
    { name: "16-bit PNG, Display P3 profile", file: photo("rgb16-p3", await png16("p3"), "png", "image/png"), reference: upright },
    { name: "PNG with alpha", file: photo("alpha", alpha, "png", "image/png"), reference: upright },
    { name: "EXIF-rotated JPEG", file: photo("exif6", exif, "jpg", "image/jpeg"), reference: upright },
    {
      name: "Display P3 JPEG",
      file: photo("p3", await flat.clone().withIccProfile("p3").jpeg({ quality: 92 }).toBuffer(), "jpg", "image/jpeg"),
      reference: upright,
    },
  ];
  // The files are what they claim to be.
  const meta = await Promise.all(cases.map((c) => sharp(c.file.bytes).metadata()));
  expect(meta.map((m) => [m.space, m.depth, m.hasAlpha, m.orientation ?? 1, Boolean(m.icc)])).toEqual([
    ["srgb", "uchar", false, 1, false],
    ["cmyk", "uchar", false, 1, true],
    ["rgb16", "ushort", false, 1, false],
    ["rgb16", "ushort", false, 1, true],
    ["rgb16", "ushort", false, 1, true],
    ["srgb", "uchar", true, 1, false],
    ["srgb", "uchar", false, 6, true],
    ["srgb", "uchar", false, 1, true],
  ]);
});

afterAll(async () => {
  await h?.close();
});

describe("sources of every kind through the whole worker path, measured against the original", () => {
  it("publishes each with the product's colour and orientation kept and a pure white border on all four edges", async () => {
    const shop = await h.addShop({ products: 0, imagesPerProduct: 0, credits: 3 * cases.length });
    const seeded = await seedProductPhotos(
      { url: h.shopify.url, shop, accessToken: h.shopify.grantAccessToken(shop) },
      cases.map((c) => c.file),
    );
    const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
      mediaIds: seeded.map((s) => s.mediaId),
      pipeline: "amazon",
    });
    // Every image settled (published, held for review or failed); a batch with an image in review stays open.
    let progress = await getBatchProgress(h.db, shop, batchId);
    for (
      const deadline = Date.now() + 240_000;
      progress && progress.counts.QUEUED + progress.counts.PROCESSING > 0 && Date.now() < deadline;
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      progress = await getBatchProgress(h.db, shop, batchId);
    }
    if (!progress) throw new Error("the batch vanished");
    const shown = new Map(h.shopify.products(shop).flatMap((p) => p.media.map((m) => [m.id, m.url] as const)));

    const measured = [];
    for (const [i, c] of cases.entries()) {
      const item = progress.items.find((it) => it.mediaId === seeded[i]!.mediaId)!;
      const bytes = Buffer.from(await (await fetch(shown.get(item.mediaId)!)).arrayBuffer());
      const metadata = await sharp(bytes).metadata();
      const px = await readPixels(bytes);
      const box = productBox(px);
      const expectedBody = meanRgb(c.reference, PRODUCT, BODY_REGION);
      const expectedMarker = meanRgb(c.reference, PRODUCT, around(MARKER_AT));
      const mirrors = [
        { x: 1 - MARKER_AT.x, y: MARKER_AT.y },
        { x: MARKER_AT.x, y: 1 - MARKER_AT.y },
        { x: 1 - MARKER_AT.x, y: 1 - MARKER_AT.y },
      ];
      measured.push({
        source: c.name,
        state: item.state,
        reason: item.reason,
        displaysUpright: (metadata.orientation ?? 1) === 1,
        offWhiteEdgePixels: offWhiteEdgePixels(px),
        // A turned or transposed product is wide instead of tall.
        aspectError: Number(Math.abs(box.width / box.height / (PRODUCT.width / PRODUCT.height) - 1).toFixed(2)),
        bodyDeltaE: Number((await deltaE(meanRgb(px, box, BODY_REGION), expectedBody)).toFixed(1)),
        markerDeltaE: Number((await deltaE(meanRgb(px, box, around(MARKER_AT)), expectedMarker)).toFixed(1)),
        // Where the marker would be after a flip or a half turn: body colour there.
        mirrorsDeltaE: Number(
          Math.max(...(await Promise.all(mirrors.map(async (m) => deltaE(meanRgb(px, box, around(m)), expectedBody))))).toFixed(1),
        ),
      });
    }

    if (process.env.DEBUG_SOURCE_FILES) console.table(measured);
    const good = { state: "PUBLISHED", reason: null, displaysUpright: true, offWhiteEdgePixels: 0 };
    for (const m of measured) {
      expect({
        source: m.source,
        state: m.state,
        reason: m.reason,
        displaysUpright: m.displaysUpright,
        offWhiteEdgePixels: m.offWhiteEdgePixels,
      }).toEqual({ source: m.source, ...good });
    }
    expect(
      measured.filter(
        (m) => m.aspectError > 0.08 || m.bodyDeltaE > MAX_DELTA_E || m.markerDeltaE > MAX_DELTA_E || m.mirrorsDeltaE > MAX_DELTA_E,
      ),
    ).toEqual([]);
  }, 300_000);
});
