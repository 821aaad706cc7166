/**
 * How the worker calls the image model: a model slot (WORKER_CONCURRENCY requests in flight per
 * worker) and then a Qwen quota slot are taken right before the request leaves (after the input image
 * is prepared, whose time varies with load, so arrivals at DashScope keep the spacing the limiter gave
 * them), and the job's image-processing slot is given up while the model works. Jobs hold a model slot
 * only for the request itself, so downloading, post-processing and publishing other images overlap it.
 */
import type { ImageEditor } from "~/imaging/edit-product-image";
import { QwenClient } from "~/qwen/client";
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

export function workerEditor(
  editor: ImageEditor,
  opts: { limiter?: RateLimiter; imageSlots?: Semaphore; modelSlots?: Semaphore },
): ImageEditor {
  // A model slot, then a quota slot, then the request; the quota window is timed from when it left.
  const modelCall = <T>(send: () => Promise<T>): Promise<T> => {
    const call = async () => {
      const grant = await opts.limiter?.acquire();
      const sending = send();
      grant?.sent();
      return sending;
    };
    return opts.modelSlots ? opts.modelSlots.run(call) : call();
  };
  return {
    async edit(req) {
      if (!(editor instanceof QwenClient)) return outsideSlot(opts.imageSlots, () => modelCall(() => editor.edit(req)));
      // Qwen's input is prepared before the quota slot is taken, so arrivals keep the limiter's spacing.
      const body = await editor.prepare(req);
      return outsideSlot(opts.imageSlots, async () => {
        const generated = await modelCall(() => editor.request(body));
        // The model is done: its result is downloaded from object storage without holding a model slot.
        return editor.fetchResult(generated);
      });
    },
  };
}
