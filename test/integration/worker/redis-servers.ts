/**
 * Throwaway Redis servers for tests that must stop Redis or need a Redis Cluster: real `redis-server` processes on
 * spare ports, without persistence, in a temporary folder removed afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeRedisPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
}

function redisCli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const cli = spawn("redis-cli", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    cli.stdout.on("data", (d: Buffer) => (out += d.toString()));
    cli.stderr.on("data", (d: Buffer) => (out += d.toString()));
    cli.once("exit", (code) => resolve({ code, out }));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface RedisServer {
  port: number;
  url: string;
  /** Starts the server (again, empty: nothing persists across a restart). */
  start(): Promise<void>;
  /** SIGKILL, as a crash would. */
  stop(): Promise<void>;
}

export async function redisServer(
  opts: { dir?: string; extraArgs?: (port: number) => string[]; taken?: Set<number> } = {},
): Promise<RedisServer> {
  const port = await freeRedisPort(opts.taken ?? new Set());
  let child: ChildProcess | null = null;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          ...(opts.dir ? ["--dir", opts.dir] : []),
          ...(opts.extraArgs?.(port) ?? []),
        ],
        { stdio: "ignore" },
      );
      await waitFor(`redis-server on ${port} answering`, async () => (await redisCli(["-p", String(port), "ping"])).out.trim() === "PONG");
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGKILL");
      await exited;
    },
  };
  await server.start();
  return server;
}

export interface RedisCluster {
  /** `host:port` of every primary, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  stop(): Promise<void>;
}

/** Primaries only (`--cluster-replicas 0`), the hash slots spread over them by `redis-cli --cluster create`. */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), "imgapp-redis-cluster-"));
  const taken = new Set<number>();
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) {
      const extraArgs = (port: number) => [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-node-timeout",
        "2000",
      ];
      servers.push(await redisServer({ dir, extraArgs, taken }));
    }
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    const created = await redisCli(["--cluster", "create", ...nodes, "--cluster-replicas", "0", "--cluster-yes"]);
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed: ${created.out}`);
    for (const server of servers) {
      await waitFor(`cluster_state:ok on ${server.port}`, async () =>
        (await redisCli(["-p", String(server.port), "cluster", "info"])).out.includes("cluster_state:ok"),
      );
    }
    return { nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
