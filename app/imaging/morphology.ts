/**
 * Binary morphology on 0/1 masks, for the segmentation, the refinement and the fidelity check: by a square (side
 * 2 x radius + 1), and the fidelity core's erosion by a diamond. Hand-written rather than taken from a library: sharp
 * does not expose libvips' morphology, and an image library or OpenCV's build for four row-and-column sweeps over masks
 * of a few hundred px is a heavy dependency (OpenCV's takes seconds to load per process). The square's sweeps keep the
 * nearest px of a value along a row, then along a column, so their cost does not grow with the radius.
 */

/**
 * What lies beyond the image: "unset" (a set px on the border is eroded; the closing of the outline and the fidelity's
 * parts), or "ignored" (the square is clipped to the image: a product cut by the frame stays product up to it).
 */
export type BeyondImage = "unset" | "ignored";

/** 1 where a set px lies within `radius` (a square), else 0. */
export function dilate(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  return nearValue(mask, width, height, radius, 1, "ignored");
}

/** 1 where every px within `radius` (a square) is set, else 0. */
export function erode(mask: Uint8Array, width: number, height: number, radius: number, beyond: BeyondImage = "unset"): Uint8Array {
  const nearUnset = nearValue(mask, width, height, radius, 0, beyond);
  for (let p = 0; p < nearUnset.length; p++) nearUnset[p] = nearUnset[p]! ^ 1;
  return nearUnset;
}

/** Dilated, then eroded (gaps and notches narrower than the square filled). */
export function close(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  return erode(dilate(mask, width, height, radius), width, height, radius);
}

/** Eroded, then dilated (parts narrower than the square removed). */
export function open(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  return dilate(erode(mask, width, height, radius), width, height, radius);
}

/**
 * 1 where every px within `radius` steps across or down (a diamond) is set, none on the border: `radius` erosions by a
 * px and its four neighbours.
 */
export function erodeDiamond(mask: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  let eroded = mask;
  for (let i = 0; i < radius; i++) {
    const from = eroded;
    eroded = new Uint8Array(from.length);
    for (let y = 1; y < height - 1; y++) {
      for (let x = 1; x < width - 1; x++) {
        const p = y * width + x;
        eroded[p] = from[p]! & from[p - 1]! & from[p + 1]! & from[p - width]! & from[p + width]!;
      }
    }
  }
  // A new mask even for a radius of 0: callers write into what they get.
  return eroded === mask ? Uint8Array.from(mask) : eroded;
}

/**
 * 1 where a px whose mask value is `value` lies within `radius` px (a square), else 0; with `beyond` "unset", the px
 * beyond the image count as value 0. Nearest such px along each row, then along each column.
 */
function nearValue(mask: Uint8Array, width: number, height: number, radius: number, value: 0 | 1, beyond: BeyondImage): Uint8Array {
  const edgeCounts = value === 0 && beyond === "unset";
  const across = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0, last = edgeCounts ? -1 : -Infinity; x < width; x++) {
      if (mask[row + x] === value) last = x;
      if (x - last <= radius) across[row + x] = 1;
    }
    for (let x = width - 1, last = edgeCounts ? width : Infinity; x >= 0; x--) {
      if (mask[row + x] === value) last = x;
      if (last - x <= radius) across[row + x] = 1;
    }
  }
  const out = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) {
    for (let y = 0, last = edgeCounts ? -1 : -Infinity; y < height; y++) {
      if (across[y * width + x]) last = y;
      if (y - last <= radius) out[y * width + x] = 1;
    }
    for (let y = height - 1, last = edgeCounts ? height : Infinity; y >= 0; y--) {
      if (across[y * width + x]) last = y;
      if (last - y <= radius) out[y * width + x] = 1;
    }
  }
  return out;
}
