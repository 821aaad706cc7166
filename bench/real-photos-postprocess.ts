// Post-processing on real product photos (../shared/corpus/real-photos): every photo edited by the stand-in's model
// (real-photo-edit.ts) on each pipeline, with a clean off-white backdrop, with a soft contact shadow, and with a
// leftover floor band and five specks; then post-processed and checked as the app's edit step does. Measured
// independently of the app's segmentation (bench/lib/postprocess-cases.ts): how much of the product the model drew
// the output still shows (p5 / median / worst), and how much backdrop residue it shows away from the product.
// Prints, per pipeline and backdrop: compliance pass %, product kept, residue, and the worst photos.
// Run: npx tsx bench/real-photos-postprocess.ts
//   BENCH_PHOTOS=n (the first n photos), BENCH_EVERY=k (every k-th of those: a spread over the categories),
//   BENCH_PIPELINES=amazon,ebay,instagram, BENCH_VARIANTS=clean,shadow,band-specks (all 1080 cases: ~25 min of 2 cores)
import { isPipelineId, type PipelineId } from "../app/imaging/pipelines";
import { loadCorpus } from "../emulators/dashscope/real-photo-edit";
import { BACKDROP_VARIANTS, runPostprocessCase, VISIBLE_RESIDUE, type BackdropVariant } from "./lib/postprocess-cases";
import { mapConcurrent } from "./lib/map-concurrent";
import { benchNumber } from "./lib/bench-setting";

const corpus = await loadCorpus();
const photoCount = Math.min(corpus.entries.length, benchNumber("BENCH_PHOTOS", corpus.entries.length, { min: 1 }));
const every = benchNumber("BENCH_EVERY", 1, { min: 1 });
const photos = Array.from({ length: photoCount }, (_, index) => index).filter((index) => index % every === 0);
const pipelines = (process.env.BENCH_PIPELINES ?? "amazon,ebay,instagram").split(",").filter(isPipelineId);
const variants = (process.env.BENCH_VARIANTS ?? BACKDROP_VARIANTS.join(",")).split(",") as BackdropVariant[];

interface Row {
  index: number;
  pipeline: PipelineId;
  variant: BackdropVariant;
  passed: boolean;
  kept: number;
  residue: number;
  shadow: number;
  failed: string[];
}
const jobs = pipelines.flatMap((pipeline) => variants.flatMap((variant) => photos.map((index) => ({ index, pipeline, variant }))));
const started = Date.now();
let done = 0;
const rows: Row[] = await mapConcurrent(jobs, 2, async ({ index, pipeline, variant }) => {
  const r = await runPostprocessCase(corpus, index, pipeline, variant);
  if (++done % 50 === 0) console.error(`${done}/${jobs.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return {
    index,
    pipeline,
    variant,
    passed: r.compliance.passed,
    kept: r.measured.kept,
    residue: r.measured.residue,
    shadow: r.measured.shadowPixels,
    failed: r.compliance.rules.filter((rule) => !rule.passed).map((rule) => rule.id),
  };
});

const pct = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : "-");
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))] ?? NaN;

console.log(
  `${photos.length} corpus photos (${every > 1 ? `every ${every}th of ` : ""}the first ${photoCount}); product kept = share of the product's interior the output still shows (measured at the stand-in's placement)`,
);
console.log(
  `residue = output pixels away from the product more than 6 levels off the background; "shows residue" = over ${VISIBLE_RESIDUE * 100}% of the frame`,
);
for (const pipeline of pipelines) {
  for (const variant of variants) {
    const set = rows.filter((r) => r.pipeline === pipeline && r.variant === variant);
    if (!set.length) continue;
    const kept = set.map((r) => r.kept);
    const showing = set.filter((r) => r.residue > VISIBLE_RESIDUE);
    const passingWithResidue = showing.filter((r) => r.passed);
    const failedRules = new Map<string, number>();
    for (const r of set) for (const id of r.failed) failedRules.set(id, (failedRules.get(id) ?? 0) + 1);
    const shadowKept = set.filter((r) => r.shadow > VISIBLE_RESIDUE).length;
    console.log(
      `\n${pipeline.padEnd(9)} ${variant.padEnd(11)} n=${set.length}  compliance pass ${pct(set.filter((r) => r.passed).length, set.length)}` +
        `  kept p5 ${quantile(kept, 0.05).toFixed(3)} median ${quantile(kept, 0.5).toFixed(3)} worst ${Math.min(...kept).toFixed(3)}` +
        `  shows residue ${pct(showing.length, set.length)} (passing with residue: ${passingWithResidue.length})` +
        `  residue median ${(
          quantile(
            set.map((r) => r.residue),
            0.5,
          ) * 100
        ).toFixed(4)}% max ${(Math.max(...set.map((r) => r.residue)) * 100).toFixed(3)}%` +
        (variant === "shadow" ? `  shadow kept in ${pct(shadowKept, set.length)}` : ""),
    );
    if (failedRules.size) console.log(`  rules failed: ${[...failedRules].map(([id, n]) => `${id} x${n}`).join(", ")}`);
    const worst = [...set].sort((a, b) => a.kept - b.kept).slice(0, 5);
    console.log(`  least kept: ${worst.map((r) => `#${r.index} ${r.kept.toFixed(3)}`).join(", ")}`);
    if (passingWithResidue.length)
      console.log(`  passing with residue: ${passingWithResidue.map((r) => `#${r.index} ${(r.residue * 100).toFixed(3)}%`).join(", ")}`);
  }
}
const bins = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999];
console.log(`\nProduct kept, distribution over every case (share of cases at or below):`);
console.log(`  ${bins.map((b) => `<=${b}: ${pct(rows.filter((r) => r.kept <= b).length, rows.length)}`).join("  ")}`);
console.log(`${rows.length} cases in ${((Date.now() - started) / 1000).toFixed(0)} s`);
