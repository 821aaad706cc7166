// Starts the DashScope stand-in for the demo: `npx tsx emulators/dashscope/main.ts`.
// Env: DASHSCOPE_EMULATOR_PORT (default 0 = any free port), DASHSCOPE_API_KEY (the key it accepts,
// default "sk-emulator"), DASHSCOPE_EMULATOR_LATENCY_MS, DASHSCOPE_EMULATOR_RPS,
// DASHSCOPE_EMULATOR_ERROR_RATE (0..1), DASHSCOPE_EMULATOR_ALTER (0..1 share of altered edits).
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
});
console.log(emulator.url);

const stop = () => {
  console.error(`dashscope stand-in stats: ${JSON.stringify(emulator.stats())}`);
  void emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
