import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { workerLaunch } from "../../../bench/lib/bench-worker";

describe("how `npm run worker` starts the worker (package.json), as the benches read it", () => {
  it("sets glibc's malloc settings and V8 flags that this Node accepts and applies", () => {
    const { env, flags } = workerLaunch();
    expect(env).toMatchObject({ MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "1048576" });
    expect(flags).toContain("--heap-growing-percent=100");
    expect(flags.some((flag) => flag.startsWith("--env-file"))).toBe(false);
    // A flag Node does not know stops the worker at start: every one must start a process that sees it.
    const started = spawnSync(process.execPath, [...flags, "-p", "JSON.stringify(process.execArgv)"], { encoding: "utf8" });
    expect(started.stderr).toBe("");
    expect((JSON.parse(started.stdout) as string[]).slice(0, flags.length)).toEqual(flags);
  });

  it("refuses a worker script of another shape rather than benching something else", () => {
    expect(() => workerLaunch("node dist/worker.js")).toThrow("package.json's worker script");
    expect(workerLaunch("A=1 bash scripts/with-node.sh tsx --trace-gc --env-file-if-exists=.env worker.ts")).toEqual({
      env: { A: "1" },
      flags: ["--trace-gc"],
    });
  });
});
