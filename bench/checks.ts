// Time per image of the compliance report and the fidelity check on 2000 x 2000 Amazon outputs.
// Goal: <= 30 ms each. Run: npx tsx bench/checks.ts
// Steady state: each check gets one full warm-up pass over the pairs and a garbage collection first.
// Fidelity is measured twice: against the stored original (any format, as given), and as the app's
// edit step calls it (commits 2e1da47, 84c8d4b): against the model's input (the original oriented,
// on white, at the model's scale, as JPEG), also for products that fill only 15% of the original's
// frame, which fidelity reads again around the product at the original's resolution.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { checkCompliance } from "../app/imaging/compliance";
import { checkFidelity } from "../app/imaging/fidelity";
import { DEFAULT_PIPELINE_SETTINGS, resolvePipeline } from "../app/imaging/pipelines";
import { postProcessEdit } from "../app/imaging/postprocess";
import { modelInputFor } from "../app/imaging/edit-product-image";
import { emulateProductEdit } from "../emulators/dashscope/edit";
import { productImageSpec, renderProductImage, type ProductImageSpec } from "../emulators/fixtures/product-images";
import { benchNumber } from "./lib/bench-setting";

const BOUND_MS = 30;
const REPEATS = benchNumber("BENCH_REPEATS", 5, { min: 1 });
const amazon = resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS);
type Pair = { source: Buffer; modelInput: Buffer; output: Buffer; format: string };
async function makePairs(specs: ProductImageSpec[]): Promise<Pair[]> {
  const made: Pair[] = [];
  for (const spec of specs) {
    const source = await renderProductImage(spec);
    const edit = await emulateProductEdit(source, { size: amazon.qwenSize, alter: false, seed: 1 });
    const { image: modelInput } = (await modelInputFor(source, "amazon", DEFAULT_PIPELINE_SETTINGS)).modelInput;
    const output = (await postProcessEdit(edit.png, amazon, "jpeg")).bytes;
    made.push({ source, modelInput, output, format: `${spec.format} ${spec.width}x${spec.height}` });
  }
  return made;
}
const pairs = await makePairs([0, 1, 2, 3, 4, 5, 6, 7].map((i) => productImageSpec(i)));
// Products at 15% of the frame: fidelity reads the original again around them (a second decode).
const smallProductPairs = await makePairs([0, 1, 2, 3].map((i) => ({ ...productImageSpec(i), scale: 0.15 })));

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

async function measure(name: string, run: (pair: Pair) => Promise<unknown>, set: Pair[] = pairs) {
  for (const pair of set) await run(pair); // warm-up pass
  collectGarbage();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let r = 0; r < REPEATS; r++) for (const pair of set) await run(pair);
  const cpu = process.cpuUsage(cpuStart);
  const runs = REPEATS * set.length;
  const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
  const wallMs = (performance.now() - wallStart) / runs;
  console.log(
    `${name.padEnd(30)} ${cpuMs.toFixed(1).padStart(6)} ms CPU/image  ${wallMs.toFixed(1).padStart(6)} ms wall/image   ratio ${(cpuMs / BOUND_MS).toFixed(2)} of the ${BOUND_MS} ms bound  ${cpuMs <= BOUND_MS ? "OK" : "OVER"}`,
  );
}

console.log(
  `${pairs.length} Amazon outputs (2000x2000 JPEG) from sources: ${pairs.map((p) => p.format).join(", ")}; ${REPEATS} repeats, after one warm-up pass and a GC per check`,
);
await measure("compliance", (pair) => checkCompliance(pair.output, "amazon"));
// The app compares every result (fresh or reused) with the model's input; against the original file is for reference.
await measure("fidelity (as the app runs it)", (pair) => checkFidelity(pair.modelInput, pair.output));
await measure("  products at 15% of the frame", (pair) => checkFidelity(pair.modelInput, pair.output), smallProductPairs);
await measure("fidelity vs original file", (pair) => checkFidelity(pair.source, pair.output));
