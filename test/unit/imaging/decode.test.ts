import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeRgb } from "~/imaging/decode";

const BRICK = [196, 62, 44];
const TEAL = [24, 132, 168];

/** Two flat patches, brick and teal, as 8-bit sRGB. */
async function patches(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><rect width="200" height="200" fill="rgb(${BRICK.join(",")})"/><rect x="200" width="200" height="200" fill="rgb(${TEAL.join(",")})"/></svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().png().toBuffer();
}

/** A 16-bit PNG holding the patches in `profile`'s colours, with that profile embedded (as editors save them). */
async function png16(profile: "srgb" | "p3"): Promise<Buffer> {
  const tagged = await sharp(await patches())
    .withIccProfile(profile)
    .png()
    .toBuffer();
  return sharp(tagged).keepIccProfile().toColourspace("rgb16").png().toBuffer();
}

async function patchColours(bytes: Buffer): Promise<number[][]> {
  const image = await decodeRgb(bytes);
  return [100, 300].map((x) => Array.from(image.data.subarray((100 * image.width + x) * 3, (100 * image.width + x) * 3 + 3)));
}

describe("decodeRgb on 16-bit images with an embedded profile", () => {
  it.each(["srgb", "p3"] as const)("gives the sRGB colours of a 16-bit PNG with the %s profile embedded", async (profile) => {
    const file = await png16(profile);
    expect(await sharp(file).metadata()).toMatchObject({ depth: "ushort", space: "rgb16", hasProfile: true });
    const [brick, teal] = await patchColours(file);
    const off = (got: number[], want: number[]) => Math.max(...want.map((v, c) => Math.abs(got[c]! - v)));
    expect(off(brick!, BRICK)).toBeLessThanOrEqual(2);
    expect(off(teal!, TEAL)).toBeLessThanOrEqual(2);
  });
});
