/**
 * The DashScope stand-in in a process of its own, as the real service is: its rate check stamps a request when
 * it arrives, not whenever the bench's busy event loop (the Shopify stand-in, the CDN) gets to it.
 */
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function startDashScopeProcess(opts: { apiKey: string; latencyMs: number; rps: number }) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "emulators/dashscope/main.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      DASHSCOPE_API_KEY: opts.apiKey,
      DASHSCOPE_EMULATOR_LATENCY_MS: String(opts.latencyMs),
      DASHSCOPE_EMULATOR_RPS: String(opts.rps),
    },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const pending = new Map<number, (body: Record<string, unknown>) => void>();
  let nextId = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`DashScope stand-in exited with ${code}`)));
    child.on("message", (message: { url?: string; id?: number }) => {
      if (message.url) resolve(message.url);
      else if (message.id !== undefined) pending.get(message.id)?.(message);
    });
  });
  const ask = (body: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = nextId++;
      pending.set(id, (answer) => {
        pending.delete(id);
        resolve(answer);
      });
      child.send({ id, ...body });
    });
  return {
    url,
    prime: async (input: Buffer, size: { width: number; height: number }) =>
      void (await ask({ prime: { input: input.toString("base64"), size } })),
    stats: async () => (await ask({ stats: true })).stats as Record<string, number>,
    cpuMs: async () => Number((await ask({ stats: true })).cpuMs),
    close: () => child.kill("SIGTERM"),
  };
}

/** Busy and total CPU time of every core of the machine (everything running on it counts). */
export function machineCpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

/**
 * The real model runs on DashScope's servers: compute the stand-in's edits before the clock starts, from the very
 * input bytes the worker will send (what editProductImage and QwenClient.prepare make of each source; the stand-in
 * counts the hits), so this machine's cores go to the app during the run.
 */
export async function primeEdits(
  dashscope: Awaited<ReturnType<typeof startDashScopeProcess>>,
  sourceUrls: string[],
  pipelineId: "amazon" | "ebay" | "instagram" = "amazon",
): Promise<void> {
  const { prepareDashScopeImage } = await import("~/qwen/input");
  const { modelInputFor } = await import("~/imaging/edit-product-image");
  const { DEFAULT_PIPELINE_SETTINGS } = await import("~/imaging/pipelines");
  const started = Date.now();
  for (const url of sourceUrls) {
    const source = Buffer.from(await (await fetch(url)).arrayBuffer());
    const { pipeline, modelInput } = await modelInputFor(source, pipelineId, DEFAULT_PIPELINE_SETTINGS);
    const { dataUri } = await prepareDashScopeImage(modelInput.image);
    await dashscope.prime(Buffer.from(dataUri.slice(dataUri.indexOf(",") + 1), "base64"), pipeline.qwenSize);
  }
  console.log(
    `stand-in edits computed ahead for ${sourceUrls.length} images in ${((Date.now() - started) / 1000).toFixed(0)} s (BENCH_LIVE_EDITS=1 computes them during the run instead)`,
  );
}
