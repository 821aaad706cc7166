// Shared by the imaging integration tests: the DashScope stand-in with a real QwenClient, and the
// generated product photos.
import { randomUUID } from "node:crypto";
import { QwenClient } from "~/qwen/client";
import { MIME_BY_FORMAT, productImageSpec, renderProductImage, type ProductImageSpec } from "../../../emulators/fixtures/product-images";
import { startDashScopeEmulator, type DashScopeEmulator, type DashScopeEmulatorOptions } from "../../../emulators/dashscope/server";

export interface QwenStandIn {
  emulator: DashScopeEmulator;
  client: QwenClient;
  apiKey: string;
}

export async function startQwenStandIn(options: Partial<DashScopeEmulatorOptions> = {}): Promise<QwenStandIn> {
  const apiKey = `sk-test-${randomUUID()}`;
  const emulator = await startDashScopeEmulator({ apiKey, ...options });
  const client = new QwenClient({ apiKey, baseUrl: emulator.url, timeoutMs: 30_000 });
  return { emulator, client, apiKey };
}

/**
 * Product photo number `index`. Beyond the catalogue's own variety, every 8th image gets an extra
 * twist (a product nearly filling the frame, a tiny one, a very wide frame) to widen the set.
 */
export function variedSpec(index: number): ProductImageSpec {
  const spec = productImageSpec(index);
  switch (index % 8) {
    case 3:
      return { ...spec, scale: 0.85 };
    case 6:
      return { ...spec, scale: 0.22 };
    case 7:
      return { ...spec, width: 1800, height: 800 };
    default:
      return spec;
  }
}

export async function renderFixture(index: number): Promise<{ spec: ProductImageSpec; source: Buffer; mimeType: string }> {
  const spec = variedSpec(index);
  return { spec, source: await renderProductImage(spec), mimeType: MIME_BY_FORMAT[spec.format] };
}

/** Runs `task` over `items`, `concurrency` at a time (the stand-in and sharp overlap a little). */
export { mapConcurrent } from "../../../bench/lib/map-concurrent";

export const range = (count: number) => Array.from({ length: count }, (_, i) => i);
