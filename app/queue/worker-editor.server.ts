/**
 * How the worker calls the image model: a Qwen quota slot is taken right before the request leaves
 * (after the input image is prepared, whose time varies with load, so arrivals at DashScope keep the
 * spacing the limiter gave them), the job's image-processing slot is given up while the model works,
 * and a result whose download broke off is downloaded again rather than paid for twice.
 */
import type { ImageEditor } from "~/imaging/edit-product-image";
import { QwenClient, buildGenerationRequest } from "~/qwen/client";
import { QwenRetryableError } from "~/qwen/errors";
import { prepareDashScopeImage } from "~/qwen/input";
import type { RateLimiter } from "./qwen-rate-limit.server";

/** Bounds how many jobs decode and encode images at once (memory and CPU), independent of I/O concurrency. */
export class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(readonly size: number) {
    this.#free = Math.max(1, size);
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free += 1;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

const DOWNLOAD_RETRY_DELAYS_MS = [500, 2_000];

async function downloadWithRetry(client: QwenClient, resultUrl: string, requestId: string | null): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.downloadResult(resultUrl, requestId);
    } catch (error) {
      const delay = DOWNLOAD_RETRY_DELAYS_MS[attempt];
      if (!(error instanceof QwenRetryableError) || delay === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Runs `fn` without holding the caller's image slot (the caller holds one when `slots` is given). */
async function outsideSlot<T>(slots: Semaphore | undefined, fn: () => Promise<T>): Promise<T> {
  if (!slots) return fn();
  slots.release();
  try {
    return await fn();
  } finally {
    await slots.acquire();
  }
}

export function workerEditor(editor: ImageEditor, opts: { limiter?: RateLimiter; imageSlots?: Semaphore }): ImageEditor {
  return {
    async edit(req) {
      if (!(editor instanceof QwenClient)) {
        return outsideSlot(opts.imageSlots, async () => {
          await opts.limiter?.acquire();
          return editor.edit(req);
        });
      }
      const input = await prepareDashScopeImage(req.image);
      const body = buildGenerationRequest({
        model: editor.model,
        image: input.dataUri,
        prompt: req.prompt,
        negativePrompt: req.negativePrompt,
        size: req.size,
        seed: editor.seed,
      });
      return outsideSlot(opts.imageSlots, async () => {
        await opts.limiter?.acquire();
        const { resultUrl, requestId } = await editor.generate(body);
        const image = await downloadWithRetry(editor, resultUrl, requestId);
        return { image, requestId };
      });
    },
  };
}
