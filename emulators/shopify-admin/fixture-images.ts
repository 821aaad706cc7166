import { createHash } from "node:crypto";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { MIME_BY_FORMAT, productImageSpec, renderProductImage } from "../fixtures/product-images";

/** Fixture photos are deterministic, so one cache serves every stand-in in the process. */
const rendered = new Map<number, Buffer>();
const inFlight = new Map<number, Promise<Buffer>>();

export interface FixtureImageInfo {
  mimeType: string;
  ext: string;
  width: number;
  height: number;
}

export function fixtureImageInfo(index: number): FixtureImageInfo {
  const spec = productImageSpec(index);
  return {
    mimeType: MIME_BY_FORMAT[spec.format],
    ext: spec.format === "jpeg" ? "jpg" : spec.format,
    width: spec.width,
    height: spec.height,
  };
}

export function renderFixtureImage(index: number): Promise<Buffer> {
  const done = rendered.get(index);
  if (done) return Promise.resolve(done);
  let pending = inFlight.get(index);
  if (!pending) {
    pending = renderProductImage(productImageSpec(index)).then((bytes) => {
      rendered.set(index, bytes);
      inFlight.delete(index);
      return bytes;
    });
    pending.catch(() => inFlight.delete(index));
    inFlight.set(index, pending);
  }
  return pending;
}

export function renderedFixtureImage(index: number): Buffer | undefined {
  return rendered.get(index);
}

let syncRenderer: { port: MessagePort; signal: Int32Array; nextId: number } | undefined;

/**
 * Renders a fixture synchronously (blocking this thread on a worker that runs sharp). Only used when
 * a test reads a never-served image's sha256 through the synchronous `products(shop)` helper.
 */
export function renderFixtureImageSync(index: number): Buffer {
  const done = rendered.get(index);
  if (done) return done;
  if (!syncRenderer) {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL("./render-worker.mjs", import.meta.url), {
      workerData: { fixtureModule: new URL("../fixtures/product-images.ts", import.meta.url).href, signal: signal.buffer, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    syncRenderer = { port: port1, signal, nextId: 1 };
  }
  const id = syncRenderer.nextId++;
  Atomics.store(syncRenderer.signal, 0, 0);
  syncRenderer.port.postMessage({ id, spec: productImageSpec(index) });
  for (;;) {
    const result = Atomics.wait(syncRenderer.signal, 0, 0, 60_000);
    const message = receiveMessageOnPort(syncRenderer.port)?.message as { id: number; bytes?: Uint8Array; error?: string } | undefined;
    if (message?.id === id) {
      if (!message.bytes) throw new Error(`rendering fixture image ${index} failed: ${message.error}`);
      const bytes = Buffer.from(message.bytes);
      rendered.set(index, bytes);
      return bytes;
    }
    if (result === "timed-out") throw new Error(`rendering fixture image ${index} timed out`);
    Atomics.store(syncRenderer.signal, 0, 0);
  }
}

export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
