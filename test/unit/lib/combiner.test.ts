import { describe, expect, it } from "vitest";
import { Combiner } from "~/lib/combiner";

/** A run whose calls are recorded and finish only when the test says so. */
function controlledRun<Request>() {
  const calls: Array<{ key: string; group: Request[]; finish: (error?: Error) => void }> = [];
  const run = (key: string, group: Request[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ key, group, finish: (error) => (error ? reject(error) : resolve(group.map((request) => `${key}:${String(request)}`))) });
    });
  return { calls, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Combiner", () => {
  it("runs a lone request at once and groups the requests that arrive while it runs, in arrival order", async () => {
    const { calls, run } = controlledRun<number>();
    const combiner = new Combiner(run);
    const first = combiner.submit("shop", 1);
    const rest = [2, 3, 4].map((n) => combiner.submit("shop", n));
    expect(calls.map((c) => c.group)).toEqual([[1]]);

    calls[0]!.finish();
    expect(await first).toBe("shop:1");
    await tick();
    expect(calls.map((c) => c.group)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.finish();
    expect(await Promise.all(rest)).toEqual(["shop:2", "shop:3", "shop:4"]);
  });

  it("keeps keys apart: one run in flight per key, runs of different keys at the same time", async () => {
    const { calls, run } = controlledRun<number>();
    const combiner = new Combiner(run);
    const a = combiner.submit("a", 1);
    const b = combiner.submit("b", 1);
    expect(calls.map((c) => c.key)).toEqual(["a", "b"]);
    calls[1]!.finish();
    calls[0]!.finish();
    expect([await a, await b]).toEqual(["a:1", "b:1"]);
  });

  it("rejects every request of a failed run with its error, and the next group still runs", async () => {
    const { calls, run } = controlledRun<number>();
    const combiner = new Combiner(run);
    const first = combiner.submit("shop", 1);
    const grouped = [combiner.submit("shop", 2), combiner.submit("shop", 3)];
    calls[0]!.finish();
    await first;
    await tick();
    const later = combiner.submit("shop", 4);
    calls[1]!.finish(new Error("database gone"));
    const outcomes = await Promise.allSettled(grouped);
    expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as Error).message : o.value))).toEqual([
      "database gone",
      "database gone",
    ]);
    await tick();
    expect(calls[2]!.group).toEqual([4]);
    calls[2]!.finish();
    expect(await later).toBe("shop:4");
  });

  it("starts a new group where the size bound says so", async () => {
    const { calls, run } = controlledRun<number>();
    const combiner = new Combiner(run, (group, next) => group.reduce((sum, n) => sum + n, next) <= 5);
    const all = [1, 2, 3, 2, 4].map((n) => combiner.submit("shop", n));
    for (let round = 0; round < 4 && calls.length > round; round++) {
      calls[round]!.finish();
      await tick();
    }
    expect(calls.map((c) => c.group)).toEqual([[1], [2, 3], [2], [4]]);
    expect(await Promise.all(all)).toHaveLength(5);
  });

  it("rejects the group when the run answers a different number of requests", async () => {
    const combiner = new Combiner<string, number, string>(async () => ["only one"]);
    const first = combiner.submit("shop", 1);
    const grouped = [combiner.submit("shop", 2), combiner.submit("shop", 3)];
    expect(await first).toBe("only one");
    await expect(Promise.all(grouped)).rejects.toThrow(/answered 1 of 2 requests/);
  });
});
