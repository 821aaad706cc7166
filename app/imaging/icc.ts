// Tags encoded JPEG and PNG files with the sRGB profile without touching their pixels. sharp's
// withIccProfile("srgb") runs a full colour transform (sRGB to sRGB here) over every output pixel,
// which cost as much as the JPEG encode itself; our pixels are already sRGB, so the profile only
// needs to be attached.
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";

let profile: Promise<Buffer> | null = null;

/** The sRGB ICC profile sharp itself attaches (read once from a 1 px image). */
export function srgbIccProfile(): Promise<Buffer> {
  profile ??= sharp({ create: { width: 1, height: 1, channels: 3, background: "#ffffff" } })
    .withIccProfile("srgb")
    .png()
    .toBuffer()
    .then((tagged) => sharp(tagged).metadata())
    .then((metadata) => {
      if (!metadata.icc) throw new Error("sharp did not attach an sRGB profile");
      return metadata.icc;
    });
  return profile;
}

const ICC_MARKER_ID = Buffer.from("ICC_PROFILE\0", "latin1");
/** APP2 payload limit minus the marker id and the two sequence bytes. */
const MAX_ICC_CHUNK = 65535 - 2 - ICC_MARKER_ID.length - 2;

/** Inserts the profile as APP2 ICC_PROFILE segments after SOI and a JFIF APP0 segment. */
export function attachIccToJpeg(jpeg: Buffer, icc: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error("not a JPEG");
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + jpeg.readUInt16BE(4);
  const count = Math.ceil(icc.length / MAX_ICC_CHUNK);
  const segments: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = icc.subarray(i * MAX_ICC_CHUNK, (i + 1) * MAX_ICC_CHUNK);
    const header = Buffer.alloc(4);
    header.writeUInt16BE(0xffe2, 0);
    header.writeUInt16BE(2 + ICC_MARKER_ID.length + 2 + chunk.length, 2);
    segments.push(header, ICC_MARKER_ID, Buffer.from([i + 1, count]), chunk);
  }
  return Buffer.concat([jpeg.subarray(0, at), ...segments, jpeg.subarray(at)]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0);
  return Buffer.concat([head, data, crc]);
}

/** Inserts an iCCP chunk right after IHDR (it must precede PLTE and IDAT). */
export function attachIccToPng(png: Buffer, icc: Buffer): Buffer {
  if (png.readUInt32BE(12) !== 0x49484452) throw new Error("not a PNG");
  const afterIhdr = 8 + 12 + png.readUInt32BE(8);
  const data = Buffer.concat([Buffer.from("sRGB\0\0", "latin1"), deflateSync(icc)]);
  return Buffer.concat([png.subarray(0, afterIhdr), pngChunk("iCCP", data), png.subarray(afterIhdr)]);
}

/**
 * True for an RGB profile whose description names sRGB. Such an embedded profile can be ignored
 * when decoding: the pixels already are sRGB, and sharp's sRGB-to-sRGB transform of every decoded
 * pixel would cost more than the decode itself.
 */
export function isSrgbProfile(icc: Buffer): boolean {
  if (icc.length < 132 || icc.toString("latin1", 16, 20) !== "RGB ") return false;
  const tagCount = icc.readUInt32BE(128);
  for (let i = 0, entry = 132; i < tagCount && entry + 12 <= icc.length; i++, entry += 12) {
    if (icc.toString("latin1", entry, entry + 4) !== "desc") continue;
    const offset = icc.readUInt32BE(entry + 4);
    const length = icc.readUInt32BE(entry + 8);
    const tag = icc.subarray(offset, Math.min(icc.length, offset + length));
    // "desc" (ICC v2) holds ASCII text; "mluc" (v4) UTF-16BE, whose high bytes are 0 for ASCII.
    const text = tag.toString("latin1").replace(/\0/g, "");
    return /srgb/i.test(text);
  }
  return false;
}
