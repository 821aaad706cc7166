// Calibration of the quality checks on real product photos (../shared/corpus/real-photos, see its README): every photo
// edited by the stand-in's model (real-photo-edit.ts) faithfully, without and with a shadow, and with every alteration
// kind, then post-processed and checked as the app's edit step does. Prints, per split, the share of faithful edits
// published without review (compliance and fidelity pass) and the share of altered edits held, per alteration kind,
// the share of edits held as altered whose message names their own alteration, and the distributions of the fidelity
// score and its parts. The thresholds in app/imaging/fidelity.ts were fitted on the "fit" half only; the "held-out"
// half is the honest figure. Faithful edits of photos whose corpus mask does not match the product
// (bench/lib/corpus-mask-flaws.ts) show pasted backdrop or a cut part: they count as expected held.
// Then the CPU per image of both checks, as a ratio to a bare sharp decode -> resize (to half) -> JPEG encode of the
// same output images measured in the same run (goal: <= 0.5x).
// Run: npx tsx bench/real-photos.ts   (BENCH_PHOTOS=n: the first n photos only; BENCH_PIPELINE=ebay|instagram;
// BENCH_DRAWS=n: n draws of the stand-in per photo and kind, other benign differences and altered spots each, n times
// the run's length; a missed edit of a draw past the first is listed as photo/draw)
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import sharp from "sharp";
import { checkCompliance, decodeOutput } from "../app/imaging/compliance";
import { checkFidelity, fidelityReport, FIDELITY_THRESHOLD, type FidelityMeasurement } from "../app/imaging/fidelity";
import { isPipelineId } from "../app/imaging/pipelines";
import { loadCorpus } from "../emulators/dashscope/real-photo-edit";
import { MASK_FLAWS } from "./lib/corpus-mask-flaws";
import { CASE_KINDS, CHANGE_OF_ALTERATION, expectedPublished, runCase, splitOf, type CaseResult } from "./lib/real-photo-cases";
import { mapConcurrent } from "./lib/map-concurrent";
import { benchNumber } from "./lib/bench-setting";

const CHECKS_GOAL = 0.5;
const pipelineName = process.env.BENCH_PIPELINE ?? "amazon";
if (!isPipelineId(pipelineName)) throw new Error(`unknown pipeline ${pipelineName}`);
const corpus = await loadCorpus();
const photoCount = Math.min(corpus.entries.length, benchNumber("BENCH_PHOTOS", corpus.entries.length, { min: 1 }));

const draws = benchNumber("BENCH_DRAWS", 1, { min: 1 });

const jobs: { index: number; kind: (typeof CASE_KINDS)[number]; draw: number }[] = [];
for (let draw = 0; draw < draws; draw++)
  for (let index = 0; index < photoCount; index++) for (const kind of CASE_KINDS) jobs.push({ index, kind, draw });
const results: CaseResult[] = await mapConcurrent(jobs, 2, ({ index, kind, draw }) => runCase(corpus, index, kind, pipelineName, draw));
const caseName = (r: CaseResult) => (r.draw ? `${r.index}/${r.draw}` : String(r.index));

const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : "-");
const quantiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return [0.05, 0.25, 0.5, 0.75, 0.95].map((q) => sorted[Math.floor(q * (sorted.length - 1))]!.toFixed(2)).join(" ");
};
const isFaithful = (kind: string) => kind.startsWith("faithful");

console.log(
  `${photoCount} corpus photos x ${CASE_KINDS.length} edits${draws > 1 ? ` x ${draws} draws` : ""}, ${pipelineName} pipeline, fidelity threshold ${FIDELITY_THRESHOLD}`,
);
const flawed = corpus.entries.slice(0, photoCount).flatMap((entry, index) => (MASK_FLAWS[entry.id] ? [index] : []));
console.log(
  `Faithful edits of ${flawed.length} photos whose corpus mask does not match the product (bench/lib/corpus-mask-flaws.ts: ` +
    `${flawed.join(", ")}) show pasted backdrop or a part cut away: they are expected held, not counted as faithful.`,
);
for (const split of ["fit", "held-out", "all"] as const) {
  const inSplit = results.filter((r) => split === "all" || splitOf(r.index) === split);
  const faithful = inSplit.filter(expectedPublished);
  const ofFlawedMasks = inSplit.filter((r) => isFaithful(r.kind) && r.maskFlaw);
  console.log(
    `\n[${split}] faithful edits published without review: ${pct(faithful.filter((r) => r.published).length, faithful.length)} of ${faithful.length}` +
      ` (counting the flawed masks' edits as faithful: ${pct(inSplit.filter((r) => isFaithful(r.kind) && r.published).length, inSplit.filter((r) => isFaithful(r.kind)).length)})`,
  );
  console.log(
    `  edits of flawed masks held: ${pct(ofFlawedMasks.filter((r) => !r.published).length, ofFlawedMasks.length)} of ${ofFlawedMasks.length}` +
      `; still published: ${[...new Set(ofFlawedMasks.filter((r) => r.published).map((r) => r.index))].join(", ") || "none"}`,
  );
  for (const kind of CASE_KINDS) {
    const ofKind = inSplit.filter((r) => r.kind === kind && !(isFaithful(kind) && r.maskFlaw));
    const compliant = ofKind.filter((r) => r.compliance.passed).length;
    const figure = isFaithful(kind)
      ? `published ${pct(ofKind.filter((r) => r.published).length, ofKind.length)}`
      : `held ${pct(ofKind.filter((r) => !r.published).length, ofKind.length)}`;
    const missed = ofKind.filter((r) => r.published !== isFaithful(kind)).map(caseName);
    console.log(
      `  ${kind.padEnd(18)} n=${String(ofKind.length).padStart(3)}  ${figure.padEnd(16)} compliance pass ${pct(compliant, ofKind.length)}` +
        (missed.length ? `  (${isFaithful(kind) ? "held" : "published"}: ${missed.join(", ")})` : ""),
    );
  }
}

// What the merchant is told: of the edits fidelity holds, the share whose message names their own alteration.
console.log(`\nHeld as altered and told their own change (all photos):`);
for (const [kind, change] of Object.entries(CHANGE_OF_ALTERATION)) {
  const held = results.filter((r) => r.kind === kind && r.fidelity.score < FIDELITY_THRESHOLD);
  const named = held.filter((r) => fidelityReport(r.fidelity).changes.includes(change));
  console.log(`  ${kind.padEnd(18)} ${change.padEnd(13)} ${pct(named.length, held.length)} of ${held.length}`);
}

const parts: (keyof FidelityMeasurement)[] = [
  "score",
  "registration",
  "worstAreaChange",
  "colourCast",
  "worstStructure",
  "missingShare",
  "proportionChange",
];
console.log(`\nDistributions (5th 25th 50th 75th 95th percentile), all photos`);
for (const kind of CASE_KINDS) {
  const ofKind = results.filter((r) => r.kind === kind);
  console.log(
    `  ${kind.padEnd(18)} ${parts.map((part) => `${part}[${quantiles(ofKind.map((r) => r.fidelity[part] as number))}]`).join(" ")}`,
  );
}
const failedRules = new Map<string, number>();
for (const r of results)
  for (const rule of r.compliance.rules) if (!rule.passed) failedRules.set(rule.id, (failedRules.get(rule.id) ?? 0) + 1);
console.log(`Compliance rules failed: ${failedRules.size ? [...failedRules].map(([id, n]) => `${id} x${n}`).join(", ") : "none"}`);

// CPU of the checks against the floor, on faithful outputs, after a warm-up pass and a garbage collection each.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const sampleOutputs = results.filter((r) => r.kind === "faithful").slice(0, 24);
async function cpuPerImage(run: (r: CaseResult) => Promise<unknown>): Promise<number> {
  for (const r of sampleOutputs) await run(r);
  collectGarbage();
  const start = process.cpuUsage();
  const repeats = 3;
  for (let i = 0; i < repeats; i++) for (const r of sampleOutputs) await run(r);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / (repeats * sampleOutputs.length);
}
const floor = await cpuPerImage(async (r) => {
  const { width = 2, height = 2 } = await sharp(r.output).metadata();
  return sharp(r.output)
    .resize(Math.round(width / 2), Math.round(height / 2))
    .jpeg({ quality: 90 })
    .toBuffer();
});
// The rules read every px of the output as a buyer's decoder shows it (a speck, the border's pure white), so one
// decode is the least any compliance check costs: printed beside the goal, which lies below it.
const decode = await cpuPerImage((r) => decodeOutput(r.output));
const compliance = await cpuPerImage((r) => checkCompliance(r.output, r.pipeline));
const fidelity = await cpuPerImage((r) => checkFidelity(r.modelInput, r.output));
const ratio = (compliance + fidelity) / floor;
console.log(
  `\nCPU per image (${sampleOutputs.length} outputs): floor (sharp decode -> resize -> encode) 1.00x; compliance ${(compliance / floor).toFixed(2)}x, fidelity ${(fidelity / floor).toFixed(2)}x; both ${ratio.toFixed(2)}x of the floor (goal <= ${CHECKS_GOAL}x) ${ratio <= CHECKS_GOAL ? "OK" : "OVER"}`,
);
console.log(
  `  of which one full decode of the output, which the rules cannot skip: ${(decode / floor).toFixed(2)}x (the floor is mostly that same decode)`,
);
