/**
 * Reads a Request's or Response's body into memory, never more than `maxBytes`: refuses early on a declared
 * Content-Length over the cap, and stops reading (cancelling the stream) as soon as the cap is passed.
 * `tooLarge` makes what is thrown in both cases.
 */
export async function readBodyCapped(message: Request | Response, maxBytes: number, tooLarge: () => unknown): Promise<Buffer> {
  const declared = Number(message.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await message.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!message.body) return Buffer.alloc(0);
  const reader = message.body.getReader();
  // A declared length sizes the buffer up front: a 20 MP original is then held once, not as chunks plus their copy.
  let sized = Number.isFinite(declared) && declared > 0 ? Buffer.allocUnsafe(declared) : null;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (sized && total + value.byteLength > sized.length) {
      // More than declared: collected as chunks from here on.
      chunks.push(sized.subarray(0, total));
      sized = null;
    }
    if (sized) sized.set(value, total);
    else chunks.push(value);
    total += value.byteLength;
  }
  return sized ? sized.subarray(0, total) : Buffer.concat(chunks, total);
}

/** A request's body as text, or null when it is over `maxBytes` (declared or streamed). */
export async function readTextCapped(request: Request, maxBytes: number): Promise<string | null> {
  const tooLarge = Symbol("too large");
  try {
    return (await readBodyCapped(request, maxBytes, () => tooLarge)).toString("utf8");
  } catch (error) {
    if (error === tooLarge) return null;
    throw error;
  }
}

/** A selection of up to 1,000 images and their products, as the Images page and the extension send it, fits easily. */
export const MAX_SELECTION_BODY_BYTES = 256 * 1024;
