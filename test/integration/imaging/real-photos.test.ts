import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { fidelityReport } from "~/imaging/fidelity";
import type { FidelityChange } from "~/imaging/fidelity-changes";
import { MASK_FLAWS } from "../../../bench/lib/corpus-mask-flaws";
import { CASE_KINDS, CHANGE_OF_ALTERATION, runCase, type CaseKind, type CaseResult } from "../../../bench/lib/real-photo-cases";
import { loadCorpus, type RealPhotoAlteration, type RealPhotoCorpus } from "../../../emulators/dashscope/real-photo-edit";
import { mapConcurrent } from "./harness";

// Six photos of the held-out half of the corpus (bench/real-photos.ts runs all 120), six categories: dress,
// longsleeve, outwear, shirt, shoes, skirt. About 1 s of CPU per edit.
const PHOTOS = [1, 31, 41, 61, 81, 101];
const KINDS: readonly CaseKind[] = CASE_KINDS;
const SET_TIMEOUT_MS = 300_000;

/** Independent of the app's compliance code: per edge, the share of pixels of its 1% band that are white (>= 250). */
async function whiteEdges(image: Buffer): Promise<{ top: number; bottom: number; left: number; right: number; coverage: number }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const band = Math.max(2, Math.round(Math.min(width, height) * 0.01));
  const white = (x: number, y: number) =>
    Math.min(data[(y * width + x) * 3]!, data[(y * width + x) * 3 + 1]!, data[(y * width + x) * 3 + 2]!) >= 250;
  const share = (x0: number, x1: number, y0: number, y1: number) => {
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) n += white(x, y) ? 1 : 0;
    return n / ((x1 - x0) * (y1 - y0));
  };
  let minX = width;
  let maxX = -1;
  let minY = height;
  let maxY = -1;
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      if (white(x, y)) continue;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
  }
  return {
    top: share(0, width, 0, band),
    bottom: share(0, width, height - band, height),
    left: share(0, band, 0, height),
    right: share(width - band, width, 0, height),
    coverage: maxX < 0 ? 0 : Math.max((maxX - minX + 1) / width, (maxY - minY + 1) / height),
  };
}

describe("quality checks on real product photos (corpus subset, Amazon)", () => {
  let corpus: RealPhotoCorpus;
  let results: CaseResult[];
  beforeAll(async () => {
    corpus = await loadCorpus();
    const jobs = PHOTOS.flatMap((index) => KINDS.map((kind) => ({ index, kind })));
    results = await mapConcurrent(jobs, 2, ({ index, kind }) => runCase(corpus, index, kind, "amazon"));
  }, SET_TIMEOUT_MS);

  const ofKind = (kind: CaseKind) => results.filter((r) => r.kind === kind);
  const summary = (rs: CaseResult[]) =>
    JSON.stringify(rs.map((r) => ({ id: r.entry.id, kind: r.kind, published: r.published, score: r.fidelity.score })));

  it("publishes faithful edits (with and without a shadow) without review", () => {
    const faithful = [...ofKind("faithful"), ...ofKind("faithful-shadow")];
    expect(faithful.filter((r) => !r.published).length, summary(faithful)).toBeLessThanOrEqual(1);
  });

  it("gives faithful edits a pure white border on all four edges and the product at about 85% of the frame", async () => {
    for (const r of [...ofKind("faithful"), ...ofKind("faithful-shadow")]) {
      const measured = await whiteEdges(r.output);
      expect({ id: r.entry.id, top: measured.top, bottom: measured.bottom, left: measured.left, right: measured.right }).toEqual({
        id: r.entry.id,
        top: 1,
        bottom: 1,
        left: 1,
        right: 1,
      });
      expect(measured.coverage).toBeGreaterThanOrEqual(0.8);
      expect(measured.coverage).toBeLessThanOrEqual(0.95);
    }
  });

  it.each(["added-object", "recoloured-patch", "hue-shift", "stretched", "missing-part", "garbled-text"] as const)(
    "holds edits with a %s for review",
    (kind) => {
      const altered = ofKind(kind);
      expect(altered.filter((r) => r.published).length, summary(altered)).toBeLessThanOrEqual(1);
    },
  );

  // What the merchant is told to look at. An alteration also moves other parts of the measurement (a stretched print
  // loses structure, a hue shift makes product colours read as missing), so most edits of each kind, not all, name it.
  it.each(Object.entries(CHANGE_OF_ALTERATION) as [RealPhotoAlteration, FidelityChange][])(
    "tells the merchant what an edit with a %s changed: %s",
    (kind, change) => {
      const told = ofKind(kind).map((r) => ({ id: r.entry.id, ...fidelityReport(r.fidelity) }));
      const named = told.filter((report) => report.verdict === "altered" && report.changes.includes(change));
      expect(named.length, JSON.stringify(told.map(({ id, changes }) => ({ id, changes })))).toBeGreaterThanOrEqual(4);
      for (const report of named) expect(report.message).toContain(WORDS[change]);
    },
  );
});

// The limits are fitted on Amazon's outputs; eBay and Instagram keep a soft shadow, and Instagram's portrait frame holds
// the product at another size, so the same subset is judged on both.
describe("quality checks on real product photos (corpus subset, eBay and Instagram)", () => {
  it(
    "publishes faithful edits and holds edits that dropped a part",
    async () => {
      const corpus = await loadCorpus();
      const jobs = (["ebay", "instagram"] as const).flatMap((pipeline) =>
        PHOTOS.flatMap((index) => (["faithful", "missing-part"] as const).map((kind) => ({ pipeline, index, kind }))),
      );
      const results = await mapConcurrent(jobs, 2, ({ pipeline, index, kind }) => runCase(corpus, index, kind, pipeline));
      const wrong = results
        .filter((r) => r.published !== (r.kind === "faithful"))
        .map((r) => ({ pipeline: r.pipeline, index: r.index, kind: r.kind, score: r.fidelity.score, changes: r.fidelity.changes }));
      expect(wrong).toEqual([]);
    },
    SET_TIMEOUT_MS,
  );
});

describe("the corpus's flawed masks", () => {
  it("names photos of the corpus, none of them in the test subset above", async () => {
    const corpus = await loadCorpus();
    const ids = corpus.entries.map((entry) => entry.id);
    expect(Object.keys(MASK_FLAWS).filter((id) => !ids.includes(id))).toEqual([]);
    expect(PHOTOS.filter((index) => MASK_FLAWS[corpus.entries[index]!.id])).toEqual([]);
  });
});

describe("missing parts on real photos", () => {
  it("does not take a door or wall of the product's colours for a part the model left out", async () => {
    // Photo 2: a navy dress on a hanger against a door; the door's colours are the dress's.
    const result = await runCase(await loadCorpus(), 2, "faithful", "amazon");
    expect({ score: result.fidelity.score, published: result.published }).toMatchObject({ published: true });
  }, 60_000);

  // Photos 71 and 119: the model left out a sleeve or a corner holding 8-9% of the product.
  it("holds an edit that dropped a sleeve of less than a tenth of the product", () => expectHeld("missing-part", [71, 119]), 60_000);

  // Photo 118: the cut shoulder of a yellow t-shirt is lit paler than the rest; photo 26: the corner of a jacket on a
  // red blanket. Both read as 5% missing (published) while only the rest's exact colours counted.
  it(
    "holds an edit that dropped a lit shoulder or a part lying on a strongly coloured backdrop",
    () => expectHeld("missing-part", [118, 26]),
    60_000,
  );

  // Photos 31, 44 and 114: a sleeve cut away next to backdrop of its colours (a dark throw, a pale carpet, a patterned
  // rug) measures 7-8.5% of the product, as much as a hanger or a wall next to a faithful edit. In the original the cut
  // sleeve runs on across the edited outline, where the backdrop would meet the product at an edge.
  it(
    "holds an edit that cut a sleeve away where the original continues it across the new outline",
    () => expectHeld("missing-part", [31, 44, 114]),
    120_000,
  );

  // Photos 58 and 94: a hip of pale grey jeans, a leg of off-white chinos, cut away in front of a pale grey wall; 67: the
  // lower sleeve of a checked shirt on a brown backdrop. The wall shares the product's colour bins, so the growth reaches
  // only part of the cut (5-6% of the product, published); where it reaches, the colour is the product's beside it.
  it(
    "holds an edit whose cut the growth reaches only in part (a pale product in front of a pale wall)",
    () => expectHeld("missing-part", [58, 94, 67]),
    120_000,
  );

  // Photo 66: a quarter of a pale printed shirt cut away in front of a pale grey wall. Shirt and wall straddle the edges
  // of the colour bins, so the growth reached 3% of the product; with the bins shifted by half a bin it reaches the
  // cut, and the shirt's print runs on across the new outline there.
  it("holds an edit that cut a quarter off a printed product in front of a pale wall", async () => {
    await expectHeld("missing-part", [66], 0);
    await expectHeld("missing-part", [66], 1);
  }, 120_000);

  // The shifted bins also reach a patterned bedspread beside a plain hat (22), a wooden cabinet above a dark jacket (42)
  // and the wall beside pale jeans (58): the texture inside and outside the outline differs there.
  it("publishes faithful edits beside a bedspread, cabinet or wall that the shifted colour bins reach", async () => {
    const corpus = await loadCorpus();
    for (const [index, draw] of [
      [22, 0],
      [42, 0],
      [58, 1],
    ] as const) {
      const { fidelity, published } = await runCase(corpus, index, "faithful", "amazon", draw);
      expect({ index, missingShare: fidelity.missingShare, published }).toMatchObject({ index, published: true });
    }
  }, 120_000);

  // Photo 61, as the demo edits it: a white shirt against a pale door. The result's mask (24 levels from white) leaves
  // out the sleeve's palest edge, which the result does show, so the original's sleeve there read as a part the model
  // left out (9.8% of the product: held).
  it("publishes a white shirt whose palest edge the result shows outside its mask", async () => {
    const { fidelity, published } = await runCase(await loadCorpus(), 61, "faithful", "amazon", "demo");
    expect({ missingShare: fidelity.missingShare, changes: fidelity.changes, published }).toMatchObject({ changes: [], published: true });
  }, 60_000);

  // Photos 0 and 78: a hanger above a dress, a dark bag beside dark shoes, of the product's colours but behind an edge.
  it("publishes a faithful edit next to a hanger or a bag of the product's colours", async () => {
    const corpus = await loadCorpus();
    for (const index of [0, 78]) {
      const { fidelity, published } = await runCase(corpus, index, "faithful", "amazon");
      expect({ index, missingShare: fidelity.missingShare, published }).toMatchObject({ index, published: true });
    }
  }, 120_000);
});

describe("stretched products on real photos", () => {
  // Photos 4, 52, 59 and 104, stretched by a fifth or more: the proportion search tried each proportion within a px of
  // the product's centre, and a stretched product's centre lies further off, so it measured 0.09 and told "print".
  it("tells the merchant an edit stretched the product when its centre moved with the stretch", async () => {
    const corpus = await loadCorpus();
    for (const index of [4, 52, 59, 104]) {
      const { fidelity } = await runCase(corpus, index, "stretched", "amazon");
      const report = fidelityReport(fidelity);
      expect({ index, proportionChange: fidelity.proportionChange, changes: report.changes }).toMatchObject({
        index,
        changes: expect.arrayContaining(["proportions"]) as unknown,
      });
      expect(report.message).toContain(WORDS.proportions);
    }
  }, 120_000);
});

describe("print and text on real photos", () => {
  // Photo 38: a quilted vest, whose registration settles on proportions 6% off (its quilting repeats), so its sides lie
  // 3 px off on the fine grid; 107: a black skirt's hem on a leopard rug; 21: a dotted hat with its shadow. Each lost
  // 0.64-0.78 of the structure of a window near its outline, more than scrambled print, while the window matches at a
  // shift of 2-3 px.
  it("publishes faithful edits of quilted or finely patterned products, a few px off near their outline", async () => {
    const corpus = await loadCorpus();
    for (const [index, kind] of [
      [38, "faithful"],
      [38, "faithful-shadow"],
      [107, "faithful"],
      [21, "faithful-shadow"],
    ] as const) {
      const { fidelity, published } = await runCase(corpus, index, kind, "amazon");
      expect({ index, kind, worstStructure: fidelity.worstStructure, published }).toMatchObject({ index, kind, published: true });
    }
  }, 120_000);

  // Photo 58 as the demo edits it for Instagram (pale jeans on a hanger against a pale wall): the final refinement's
  // one step stopped on proportions 6% off, the legs as tall as the whole frame, and a window lost 1.07 of its
  // structure; 103 with a shadow, 0.59. At the placement climbed to the best fit they lose 0.05 and 0.19.
  it("publishes faithful edits whose final refinement stopped a step short of the fit", async () => {
    const corpus = await loadCorpus();
    for (const [index, kind, draw] of [
      [58, "faithful", "demo"],
      [103, "faithful-shadow", 0],
    ] as const) {
      const { fidelity, published } = await runCase(corpus, index, kind, "instagram", draw);
      expect({ index, kind, worstStructure: fidelity.worstStructure, published }).toMatchObject({ index, kind, published: true });
    }
  }, 120_000);

  // Photos 98 and 109: the scrambled print loses 0.56-0.59 of its structure; faithful redraws lose at most 0.52.
  it("holds an edit whose print was scrambled but kept most of its structure", () => expectHeld("garbled-text", [98, 109]), 60_000);

  // Photo 23: a white hat spanning 217 px of its 533 px original, once searched at 384 px (156 px there): compared on
  // the coarse grid, its scrambled label lost 0.75 of a window's structure, under that grid's limit.
  it("holds scrambled print on a product the original shows at more detail than it was first read at", async () => {
    await expectHeld("garbled-text", [23], 0);
    await expectHeld("garbled-text", [23], 2);
  }, 60_000);
});

describe("registration on real photos", () => {
  // Photo 70: a pale striped shirt on a dark grained floor. On the coarsest level the floor's grain matches the small
  // templates about as well as the shirt matches its own size (0.35-0.40), and a finer level's chance match scored
  // 0.55: the shirt was not found, and its faithful edits were held as altered in every way.
  it("finds a pale product on a grained floor, not a chance match of a small template", async () => {
    const corpus = await loadCorpus();
    for (const [kind, draw] of [
      ["faithful", 1],
      ["faithful-shadow", 2],
    ] as const) {
      const { fidelity, published } = await runCase(corpus, 70, kind, "amazon", draw);
      const measured = { kind, draw, registration: fidelity.registration, proportionChange: fidelity.proportionChange };
      expect(measured.registration, JSON.stringify(measured)).toBeGreaterThan(0.5);
      expect(measured.proportionChange, JSON.stringify(measured)).toBeLessThan(0.06);
      expect(published, JSON.stringify(measured)).toBe(true);
    }
  }, 60_000);
});

/** What the merchant's message says of each change (its key words, written here rather than read from the code). */
const WORDS: Record<FidelityChange, string> = {
  "missing-part": "looks missing",
  recoloured: "label or logo",
  "colour-cast": "colour looks shifted",
  print: "print or text",
  proportions: "stretched",
  "not-found": "not be matched",
};

/**
 * Each photo's edit of this kind (the stand-in's `draw`) is held for review, saying what changed (the measured parts
 * printed with a failure).
 */
async function expectHeld(kind: "missing-part" | "garbled-text", indices: number[], draw = 0): Promise<void> {
  const corpus = await loadCorpus();
  const change = kind === "missing-part" ? "missing-part" : "print";
  for (const index of indices) {
    const { fidelity, published } = await runCase(corpus, index, kind, "amazon", draw);
    const measured = { draw, missingShare: fidelity.missingShare, worstStructure: fidelity.worstStructure };
    expect({ index, ...measured, published }).toMatchObject({ index, published: false });
    expect(fidelityReport(fidelity).message, JSON.stringify({ index, ...measured })).toContain(WORDS[change]);
  }
}
