/** Real worker processes (worker-child.ts) against a harness's stand-ins, database and queue. */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { DASHSCOPE_KEY, type Harness } from "../batches/harness";
import { testDatabaseUrl, TEST_REDIS_URL } from "../../setup/urls";

export function spawnWorkerProcess(h: Harness, extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "worker-child.ts")], {
    cwd: path.resolve(import.meta.dirname, "../../.."),
    env: {
      ...process.env,
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_NAME: h.queueName,
      WORKER_CONCURRENCY: "4",
      WORKER_LOCK_MS: "2000",
      WORKER_STALLED_INTERVAL_MS: "1000",
      SWEEP_INTERVAL_MS: "1000",
      QWEN_MAX_RPS: "0",
      DASHSCOPE_API_KEY: DASHSCOPE_KEY,
      DASHSCOPE_BASE_URL: h.dashscope.url,
      SHOPIFY_EMULATOR_URL: h.shopify.url,
      ALLOWED_IMAGE_HOSTS: "127.0.0.1",
      SAFE_FETCH_LOCAL_HOSTS: [h.shopify.url, h.dashscope.url].map((url) => new URL(url).host).join(","),
      ...extraEnv,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

export async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
