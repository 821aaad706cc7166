// Post-processing cost per image, against the floor (a bare sharp decode -> resize -> encode of
// the same input) and a peer (the same bare steps in jimp, pure JS).
// Goals: within 2x of the floor, >= 10x faster than the peer, well under 250 ms CPU for a
// 2048 x 2048 model output. Run: npx tsx bench/postprocess.ts
// A worker handles thousands of images, so the steady state is measured: every contender gets one
// full warm-up pass over its inputs and a garbage collection before its timed runs. jimp is loaded
// only after ours and the floor are measured: its modules and bitmaps would otherwise stay in the
// heap and make every garbage collection during our runs slower (about 8 ms per image).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import sharp from "sharp";
import { DEFAULT_PIPELINE_SETTINGS, resolvePipeline } from "../app/imaging/pipelines";
import { postProcessEdit } from "../app/imaging/postprocess";
import { emulateProductEdit } from "../emulators/dashscope/edit";
import { productImageSpec, renderProductImage } from "../emulators/fixtures/product-images";
import { benchNumber } from "./lib/bench-setting";

const REPEATS = benchNumber("BENCH_REPEATS", 5, { min: 1 });

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

async function cpuPerRun(inputs: Buffer[], run: (input: Buffer) => Promise<unknown>, repeats: number): Promise<number> {
  for (const input of inputs) await run(input); // warm-up pass
  collectGarbage();
  const start = cpuMs();
  for (let r = 0; r < repeats; r++) for (const input of inputs) await run(input);
  return (cpuMs() - start) / (repeats * inputs.length);
}

const amazon = resolvePipeline("amazon", DEFAULT_PIPELINE_SETTINGS);
const floor = (input: Buffer) => sharp(input).resize(2000, 2000, { fit: "inside", kernel: "lanczos3" }).jpeg({ quality: 90 }).toBuffer();
const peer = async (input: Buffer) => {
  const { Jimp } = await import("jimp");
  const image = await Jimp.read(input);
  image.scaleToFit({ w: 2000, h: 2000 });
  return image.getBuffer("image/jpeg", { quality: 90 });
};
const ours = (input: Buffer) => postProcessEdit(input, amazon, "jpeg");

console.log(
  `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, sharp threads ${sharp.concurrency()}, ${REPEATS} repeats; ` +
    "inputs generated first; ours and the floor on every set, then jimp; each: one warm-up pass over its inputs and a GC before the timed runs",
);
const sets: [string, Buffer[]][] = [];
const modelOutputs: Buffer[] = [];
for (const i of [0, 1, 2]) {
  const source = await renderProductImage(productImageSpec(i));
  modelOutputs.push((await emulateProductEdit(source, { size: { width: 2048, height: 2048 }, alter: false, seed: 1 })).png);
}
sets.push(["model output 2048x2048 PNG", modelOutputs]);
const photos: Buffer[] = [];
for (const i of [6, 7, 10]) photos.push(await renderProductImage({ ...productImageSpec(i), width: 4000, height: 3000, format: "jpeg" }));
sets.push(["photo 4000x3000 JPEG", photos]);

const measured = [];
for (const [name, inputs] of sets) {
  const rssBefore = process.resourceUsage().maxRSS / 1024;
  const oursMs = await cpuPerRun(inputs, ours, REPEATS);
  const rssOurs = process.resourceUsage().maxRSS / 1024;
  const floorMs = await cpuPerRun(inputs, floor, REPEATS);
  measured.push({ name, inputs, oursMs, floorMs, rssBefore, rssOurs });
}
let worst = { floorRatio: 0, peerRatio: Infinity, modelCpu: 0 };
for (const { name, inputs, oursMs, floorMs, rssBefore, rssOurs } of measured) {
  const peerMs = await cpuPerRun(inputs.slice(0, 1), peer, 1);
  const floorRatio = oursMs / floorMs;
  const peerRatio = peerMs / oursMs;
  console.log(`\n${name}`);
  console.log(
    `  post-processing  ${oursMs.toFixed(0).padStart(6)} ms CPU/image   (peak RSS so far ${rssOurs.toFixed(0)} MB, was ${rssBefore.toFixed(0)} MB)`,
  );
  console.log(
    `  floor (sharp)    ${floorMs.toFixed(0).padStart(6)} ms CPU/image   ratio ${floorRatio.toFixed(2)}x  (bound <= 2x)  ${floorRatio <= 2 ? "OK" : "OVER"}`,
  );
  console.log(
    `  peer (jimp)      ${peerMs.toFixed(0).padStart(6)} ms CPU/image   ours is ${peerRatio.toFixed(1)}x faster  (bound >= 10x)  ${peerRatio >= 10 ? "OK" : "UNDER"}`,
  );
  worst = {
    floorRatio: Math.max(worst.floorRatio, floorRatio),
    peerRatio: Math.min(worst.peerRatio, peerRatio),
    modelCpu: name.startsWith("model") ? oursMs : worst.modelCpu,
  };
}
console.log(
  `\n2048x2048 model output: ${worst.modelCpu.toFixed(0)} ms CPU, ratio ${(worst.modelCpu / 250).toFixed(2)} of the 250 ms bound  ${worst.modelCpu < 250 ? "OK" : "OVER"}`,
);
console.log(`worst floor ratio ${worst.floorRatio.toFixed(2)}x (<= 2), worst peer speed-up ${worst.peerRatio.toFixed(1)}x (>= 10)`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (includes jimp's decoded bitmaps)`);
