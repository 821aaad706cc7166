import { describe, expect, it } from "vitest";
import { readBodyCapped } from "~/lib/read-capped.server";

/** `bytes` sent in `chunkSize` pieces, with the Content-Length a server declared (which may be wrong), if any. */
function response(bytes: Buffer, opts: { chunkSize: number; declared?: number }): Response {
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + opts.chunkSize)));
      offset += opts.chunkSize;
    },
  });
  return new Response(body, { headers: opts.declared === undefined ? {} : { "content-length": String(opts.declared) } });
}

const photo = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const tooLarge = () => new Error("too large");

describe("readBodyCapped", () => {
  it("returns a body sent in many pieces byte for byte, whatever length the server declared", async () => {
    for (const declared of [undefined, photo.length, 1000, photo.length * 2]) {
      const bytes = await readBodyCapped(response(photo, { chunkSize: 16_384, declared }), 1024 * 1024, tooLarge);
      expect(bytes.equals(photo), `declared ${declared}`).toBe(true);
    }
  });

  it("refuses a body that grows past the cap even when the declared length was under it", async () => {
    await expect(readBodyCapped(response(photo, { chunkSize: 16_384, declared: 1000 }), 100_000, tooLarge)).rejects.toThrow("too large");
    await expect(readBodyCapped(response(photo, { chunkSize: 16_384, declared: photo.length * 2 }), 100_000, tooLarge)).rejects.toThrow(
      "too large",
    );
  });
});
