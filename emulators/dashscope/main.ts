// Starts the DashScope stand-in in its own process (the demo, the throughput bench): `npx tsx emulators/dashscope/main.ts`.
// Env: DASHSCOPE_EMULATOR_PORT (default 0 = any free port), DASHSCOPE_API_KEY (the key it accepts,
// default "sk-emulator"), DASHSCOPE_EMULATOR_LATENCY_MS, DASHSCOPE_EMULATOR_RPS,
// DASHSCOPE_EMULATOR_ERROR_RATE (0..1), DASHSCOPE_EMULATOR_ALTER (0..1 share of altered edits),
// DASHSCOPE_EMULATOR_REAL_PHOTOS (a real-photo corpus directory: its photos are edited from their product masks).
import { startDashScopeEmulator } from "./server";

const number = (name: string): number | undefined => {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? undefined : Number(raw);
};

const emulator = await startDashScopeEmulator({
  apiKey: process.env.DASHSCOPE_API_KEY || "sk-emulator",
  port: number("DASHSCOPE_EMULATOR_PORT") ?? 0,
  latencyMs: number("DASHSCOPE_EMULATOR_LATENCY_MS"),
  rps: number("DASHSCOPE_EMULATOR_RPS"),
  errorRate5xx: number("DASHSCOPE_EMULATOR_ERROR_RATE"),
  alterProduct: number("DASHSCOPE_EMULATOR_ALTER"),
  realPhotos: process.env.DASHSCOPE_EMULATOR_REAL_PHOTOS || undefined,
});
console.log(emulator.url);

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

// Started by another process (bench/throughput.ts) with an IPC channel: it primes edits and reads the stats.
type Message = { id: number; prime?: { input: string; size: { width: number; height: number } }; stats?: true };
if (process.send) {
  process.send({ url: emulator.url });
  process.on("message", (message: Message) => {
    const answer = message.prime
      ? emulator.prime(Buffer.from(message.prime.input, "base64"), message.prime.size).then(() => ({}))
      : Promise.resolve({ stats: emulator.stats(), cpuMs: cpuMs() });
    void answer.then((body) => process.send?.({ id: message.id, ...body }));
  });
}

const stop = () => {
  console.error(`dashscope stand-in stats: ${JSON.stringify(emulator.stats())}`);
  void emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
