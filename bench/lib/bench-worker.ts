/**
 * The real worker (worker.ts) in a process of its own for the benches, reporting its CPU time and memory to the
 * bench over IPC every 250 ms. `spawnBenchWorker` starts one; run directly, this file is that worker.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface WorkerSample {
  cpuMs: number;
  rss: number;
  peakRss: number;
  peakHeap: number;
  peakExternal: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * How `npm run worker` starts the worker, read from package.json so the bench measures it the same way: the leading
 * environment (glibc's malloc settings: two arenas keep RSS near the live data, a fixed mmap threshold returns freed
 * image buffers to the system) and the node and V8 flags given to tsx (`--heap-growing-percent=100`: fewer full
 * collections). `.env` is the operator's, not the bench's, so `--env-file-if-exists` is left out.
 */
export function workerLaunch(script = readWorkerScript()): { env: Record<string, string>; flags: string[] } {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  for (const word of words) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (!assignment) break;
    env[assignment[1]!] = assignment[2]!;
  }
  const tsx = words.indexOf("tsx");
  if (tsx < 0 || words.at(-1) !== "worker.ts")
    throw new Error(`package.json's worker script is not "... tsx [flags] worker.ts": ${script}`);
  const flags = words.slice(tsx + 1, -1).filter((word) => word.startsWith("--") && !word.startsWith("--env-file"));
  return { env, flags };
}

function readWorkerScript(): string {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  return manifest.scripts.worker ?? "";
}

/** A worker process with the bench's environment plus `env`; `last` holds its latest sample. */
export function spawnBenchWorker(env: Record<string, string>): {
  child: ChildProcess;
  last: WorkerSample;
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
} {
  const profile = process.env.BENCH_WORKER_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : [];
  const flags = (process.env.BENCH_WORKER_FLAGS ?? "").split(" ").filter(Boolean);
  const launch = workerLaunch();
  const child = spawn(process.execPath, [...profile, ...launch.flags, ...flags, "--import", "tsx", fileURLToPath(import.meta.url)], {
    cwd: ROOT,
    // What the bench's own environment sets (say MALLOC_ARENA_MAX to compare) wins over npm's.
    env: { ...launch.env, ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let stopping = false;
  // A worker that dies (a bad flag, a crash) would otherwise leave the bench waiting for images nobody processes.
  child.once("exit", (code, signal) => {
    if (stopping) return;
    console.error(`bench worker ${child.pid} exited (${signal ?? `code ${code}`}) before the bench stopped it`);
    process.exit(1);
  });
  const worker = {
    child,
    last: { cpuMs: 0, rss: 0, peakRss: 0, peakHeap: 0, peakExternal: 0 } as WorkerSample,
    /** Ends the worker (SIGTERM: it finishes its jobs' current step; SIGKILL: a crash, as the recovery benches want). */
    async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM") {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
    },
  };
  child.on("message", (sample: WorkerSample) => (worker.last = sample));
  return worker;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { installEmulatorDispatcher } = await import("../../emulators/dispatcher");
  installEmulatorDispatcher();
  const { runWorker } = await import("../../worker");
  const { stop } = await runWorker();
  let peak = { rss: 0, heapUsed: 0, external: 0 };
  const sample = () => {
    const memory = process.memoryUsage();
    if (memory.rss > peak.rss) peak = { rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external };
    const cpu = process.cpuUsage();
    process.send?.({
      cpuMs: (cpu.user + cpu.system) / 1000,
      rss: memory.rss,
      peakRss: peak.rss,
      peakHeap: peak.heapUsed,
      peakExternal: peak.external,
    } satisfies WorkerSample);
  };
  const timer = setInterval(sample, 250);
  process.once("SIGTERM", () => {
    clearInterval(timer);
    sample();
    void stop().then(() => process.exit(0));
  });
}
