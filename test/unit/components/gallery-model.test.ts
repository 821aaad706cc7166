import { describe, expect, it } from "vitest";
import { formatMessage as formatIn, type Said } from "~/components/batch/gallery-messages";
import {
  applyFilter,
  bulkReviewableIds,
  fidelityDetail,
  filterCounts,
  filterTabs,
  heldOrCancelledNote,
  ruleDetail,
  verdictFor,
  versionNote,
  type GalleryItemInput,
} from "~/components/batch/gallery-model";
import { readFidelity } from "~/components/batch/report-model";
import { evaluateRules, type ImageMeasurements } from "~/imaging/compliance";
import { DEFAULT_PIPELINE_SETTINGS, resolvePipeline, type PipelineId } from "~/imaging/pipelines";
import { cutOffMessage } from "~/imaging/cutoff";
import { i18nFor } from "~/i18n/locales";
import {
  MESSAGE_CODES,
  payloadMessage,
  type ErrorPayload,
  type MerchantMessage,
  type MessageCode,
  type MessageParams,
} from "~/lib/merchant-message";

const formatMessage = (msg: Said) => formatIn(msg, i18nFor("en").t);

const amazon = { pipeline: "amazon", settings: DEFAULT_PIPELINE_SETTINGS };
const GOOD: ImageMeasurements = {
  format: "jpeg",
  width: 2000,
  height: 2000,
  borderPurity: 1,
  coverage: 0.88,
  minMargin: 60,
  strayMarks: 0,
};

/** The report the worker stores, from the same rules it evaluates. */
function report(overrides: Partial<ImageMeasurements> = {}, pipeline: PipelineId = "amazon") {
  const measurements = { ...GOOD, ...overrides };
  const rules = evaluateRules(measurements, resolvePipeline(pipeline, DEFAULT_PIPELINE_SETTINGS));
  return { passed: rules.every((r) => r.passed), rules, measurements };
}

const unchanged = { score: 0.93, threshold: 0.8, verdict: "unchanged", message: null };
const altered = { score: 0.61, threshold: 0.8, verdict: "altered", message: "The product may have been altered." };

function item(state: string, opts: Partial<GalleryItemInput> = {}): GalleryItemInput {
  return { id: `${state}-${Math.random()}`, state, reason: null, compliance: report(), fidelity: unchanged, framing: null, ...opts };
}

const verdict = (i: GalleryItemInput, batch = amazon) => formatMessage(verdictFor(i, batch).message);

describe("the gallery's one verdict per image", () => {
  it("says an image meets every rule of its marketplace, held or published", () => {
    expect(verdict(item("PUBLISHED"))).toBe("Meets every Amazon rule");
    expect(verdict(item("NEEDS_REVIEW"))).toBe("Meets every Amazon rule; waiting for your review");
    const ebay = { pipeline: "ebay", settings: DEFAULT_PIPELINE_SETTINGS };
    expect(verdict(item("PUBLISHED", { compliance: report({}, "ebay") }), ebay)).toBe("Meets every eBay rule");
  });

  it("says the same in Spanish, with the nested rule and the count in that language", () => {
    const es = (i: GalleryItemInput) => formatIn(verdictFor(i, amazon).message, i18nFor("es").t);
    expect(es(item("PUBLISHED"))).toBe("Cumple todas las reglas de Amazon");
    expect(es(item("NEEDS_REVIEW", { compliance: report({ coverage: 0.62, borderPurity: 0.5, width: 800, height: 800 }) }))).toBe(
      "En revisión: El fondo no es blanco puro (y 2 más)",
    );
    expect(es(item("NEEDS_REVIEW", { compliance: report({ coverage: 0.62 }) }))).toBe(
      "En revisión: El producto ocupa el 62 % del encuadre; Amazon pide alrededor del 85 %",
    );
  });

  it("names the one rule an image misses in a merchant's words, with the figures measured", () => {
    expect(verdict(item("NEEDS_REVIEW", { compliance: report({ borderPurity: 0.93 }) }))).toBe(
      "Held for review: Background is not pure white",
    );
    expect(verdict(item("NEEDS_REVIEW", { compliance: report({ coverage: 0.62 }) }))).toBe(
      "Held for review: Product fills 62% of the frame; Amazon needs about 85%",
    );
    expect(verdict(item("NEEDS_REVIEW", { compliance: report({ coverage: 0.99, minMargin: 3 }) }))).toBe(
      "Held for review: Product fills 99% of the frame; Amazon needs at most 95%",
    );
    expect(verdict(item("NEEDS_REVIEW", { compliance: report({ strayMarks: 2 }) }))).toBe(
      "Held for review: 2 stray marks on the background",
    );
    // Several missed: the most visible one, and how many more.
    expect(verdict(item("NEEDS_REVIEW", { compliance: report({ coverage: 0.62, borderPurity: 0.5, width: 800, height: 800 }) }))).toBe(
      "Held for review: Background is not pure white (and 2 more)",
    );
    // A report stored before measurements were kept still reads as words.
    const { measurements: _dropped, ...old } = report({ coverage: 0.62 });
    expect(verdict(item("NEEDS_REVIEW", { compliance: old }))).toBe("Held for review: Product does not fill the frame as Amazon asks");
  });

  it("puts a product that may have changed, or an original cut off, before any rule", () => {
    expect(verdict(item("NEEDS_REVIEW", { fidelity: altered, compliance: report({ coverage: 0.62 }) }))).toBe(
      "Held for review: the product may have been altered",
    );
    const framing = { edges: ["bottom"], runs: {}, message: cutOffMessage(["bottom"]) };
    expect(verdict(item("NEEDS_REVIEW", { framing }))).toBe("Held for review: the original shows only part of the product");
  });

  it("says what may have changed in a held product, the clearest change first, in the viewer's language", () => {
    const held = item("NEEDS_REVIEW", { fidelity: { ...altered, changes: ["missing-part", "print"] } });
    expect(verdict(held)).toBe("Held for review: a part of the product may be missing");
    expect(formatIn(verdictFor(held, amazon).message, i18nFor("es").t)).toBe("En revisión: puede faltar una parte del producto");
    expect(verdict(item("NEEDS_REVIEW", { fidelity: { ...altered, changes: ["proportions"] } }))).toBe(
      "Held for review: the product may be stretched or squashed",
    );
  });

  it("says the state of images that were not published, with the reason of a failure", () => {
    expect(
      verdict(item("FAILED", { reason: "The image could not be downloaded from Shopify. Try again.", compliance: null, fidelity: null })),
    ).toBe("Failed: The image could not be downloaded from Shopify. Try again.");
    expect(verdict(item("FAILED", { compliance: null }))).toMatch(/^Failed\. Try again/);
    expect(verdict(item("REJECTED"))).toBe("Rejected: the product keeps its original image");
    expect(verdict(item("RESTORED"))).toBe("Original image restored");
    expect(verdict(item("PUBLISHED", { restoring: true }))).toBe("Putting the original image back…");
    expect(verdict(item("QUEUED", { compliance: null }))).toBe("Waiting for its turn");
    expect(verdict(item("PROCESSING", { compliance: null }))).toBe("Being edited…");
    expect(verdictFor(item("FAILED"), amazon).tone).toBe("critical");
    expect(verdictFor(item("NEEDS_REVIEW"), amazon).tone).toBe("attention");
  });
});

describe("the measured details under an image", () => {
  const details = (compliance: { rules: ReturnType<typeof report>["rules"] }, lng: "en" | "es", batch = amazon) =>
    compliance.rules.map((rule) => formatIn(ruleDetail(rule, compliance, batch), i18nFor(lng).t));

  it("lists every rule with what was measured and what it needs, in English", () => {
    expect(details(report({ coverage: 0.62, strayMarks: 2, width: 800, height: 800 }), "en")).toEqual([
      "File format: JPEG (needs JPEG or PNG)",
      "Image size: 800 × 800 px (needs at least 1,000 px on the longest side)",
      "Aspect ratio: 1:1 (needs 1:1)",
      "Background is exactly #FFFFFF: 100% of border pixels match (needs at least 99.9% (exact RGB match))",
      "Product fills the frame: 62% (needs 85–95% of the longest side)",
      "No marks on the background: 2 stray marks away from the product (needs nothing but the product (and, where kept, its soft shadow))",
      "Product is not cut off: 60 px from the nearest edge (needs a margin on every side)",
    ]);
  });

  it("shows a Spanish viewer each rule, its figures and what it needs in Spanish", () => {
    const spanish = details(report({ coverage: 0.62, strayMarks: 1, borderPurity: 0.9876, minMargin: -1 }), "es");
    expect(spanish).toEqual([
      "Formato de archivo: JPEG (necesita JPEG o PNG)",
      "Tamaño de la imagen: 2000 × 2000 px (necesita al menos 1000 px en el lado más largo)",
      "Proporción: 1:1 (necesita 1:1)",
      "El fondo es exactamente #FFFFFF: el 98,76 % de los píxeles del borde coincide (necesita al menos el 99,9 % (coincidencia RGB exacta))",
      "El producto ocupa el encuadre: 62 % (necesita 85–95 % del lado más largo)",
      "Sin manchas en el fondo: 1 mancha suelta lejos del producto (necesita solo el producto (y, si se conserva, su sombra suave))",
      "El producto no está cortado: no se encontró ningún producto (necesita un margen en todos los lados)",
    ]);
    // The gallery's verdict words a missed size rule with the same Spanish figures.
    expect(
      formatIn(verdictFor(item("NEEDS_REVIEW", { compliance: report({ width: 800, height: 800 }) }), amazon).message, i18nFor("es").t),
    ).toBe("En revisión: La imagen mide 800 × 800 px; Amazon pide al menos 1000 px en el lado más largo");
  });

  it("shows a report stored before measurements were kept as it was written", () => {
    const { measurements: _dropped, ...old } = report({ coverage: 0.62 });
    expect(details(old, "es")[4]).toBe("El producto ocupa el encuadre: 62.0% (necesita 85–95 % del lado más largo)");
  });

  it("says what looks different in a product held as altered, in the viewer's language", () => {
    const held = readFidelity({ ...altered, score: 0.55, threshold: 0.6, changes: ["missing-part", "proportions"] })!;
    const line = (fidelity: unknown, lng: "en" | "es") => formatIn(fidelityDetail(readFidelity(fidelity)!)!, i18nFor(lng).t);
    expect(line(held, "en")).toBe(
      "The product may have changed: a part of it (a sleeve, strap or leg) looks missing and it looks stretched or squashed. " +
        "Similarity 0.55 (needs 0.60)",
    );
    expect(line(held, "es")).toBe(
      "El producto puede haber cambiado: parece faltar una parte (una manga, un tirante o una pernera) y se ve estirado o aplastado. " +
        "Similitud 0.55 (necesita 0.60)",
    );
    expect(line({ ...held, changes: ["print"] }, "en")).toBe(
      "The product may have changed: its print or text looks different. Similarity 0.55 (needs 0.60)",
    );
    // Reports stored before the check named changes, or naming one this version does not know.
    expect(line({ ...held, changes: undefined }, "en")).toBe("The product may have changed: similarity 0.55 (needs 0.60)");
    expect(line({ ...held, changes: ["glitter"] }, "en")).toBe("The product may have changed: similarity 0.55 (needs 0.60)");
    expect(line(unchanged, "en")).toBe("Product unchanged: similarity 0.93 (needs 0.80)");
  });
});

describe("bulk review's refusals", () => {
  // What BatchGallery shows for a refusal: useMessageText, i.e. the payload's message, else its English sentence.
  const line = (refusal: ErrorPayload, lng: "en" | "es") =>
    formatIn(
      { key: "bulk.refusedLine", params: { title: "Mug, image 1", error: payloadMessage(refusal) ?? refusal.error } },
      i18nFor(lng).t,
    );

  it("tells a Spanish viewer in Spanish why an image was left unchanged", () => {
    const changedMeanwhile = {
      error: "Only images waiting for review can be approved.",
      errorCode: "approveWrongState" as const,
      errorParams: {},
    };
    expect(line(changedMeanwhile, "en")).toBe("Mug, image 1: Only images waiting for review can be approved.");
    expect(line(changedMeanwhile, "es")).toBe("Mug, image 1: Solo se pueden aprobar las imágenes que esperan revisión.");
    expect(line({ error: "This image is not in this batch.", errorCode: "itemNotInBatch" }, "es")).toBe(
      "Mug, image 1: Esta imagen no está en este lote.",
    );
    // An answer without a code (an older server) still says why, in its English words.
    expect(line({ error: "Something Shopify said." }, "es")).toBe("Mug, image 1: Something Shopify said.");
  });
});

describe("filters and bulk selection", () => {
  const items = [
    item("NEEDS_REVIEW"),
    item("NEEDS_REVIEW"),
    item("NEEDS_REVIEW", { restoring: true }),
    item("PUBLISHED"),
    item("PUBLISHED"),
    item("FAILED"),
    item("RESTORED"),
    item("REJECTED"),
  ];

  it("counts images per state filter, and shows the in-progress and cancelled filters only when they have images", () => {
    expect(filterCounts(items)).toEqual({ all: 8, review: 3, published: 2, failed: 1, rejected: 1, restored: 1, working: 0, cancelled: 0 });
    const tabs = filterTabs(items, "all").map((t) => `${formatMessage(t.label)} ${t.count}`);
    expect(tabs).toEqual(["All 8", "Held for review 3", "Published 2", "Failed 1", "Rejected 1", "Restored 1"]);
    expect(filterTabs([...items, item("QUEUED")], "all").map((t) => t.filter)).toContain("working");
    // The filter the merchant is on stays even when its last image left it.
    expect(filterTabs(items, "cancelled").map((t) => t.filter)).toContain("cancelled");
    expect(applyFilter(items, "review")).toHaveLength(3);
    expect(applyFilter(items, "all")).toHaveLength(8);
  });

  it("lets bulk approve/reject select held images only", () => {
    expect(bulkReviewableIds(items)).toEqual([items[0]!.id, items[1]!.id]);
  });
});

describe("the versions list", () => {
  it("says why publishing a version again failed, before the version's own reason", () => {
    const failed = versionNote({
      state: "REJECTED",
      reason: "Rejected by the merchant; the original image was kept.",
      publishError: "Shopify could not process the new image",
    });
    expect(typeof failed === "object" && failed ? formatMessage(failed) : failed).toBe(
      "Publishing this version again failed: Shopify could not process the new image. Its credits were given back; the product keeps the version it had.",
    );
    expect(
      versionNote({ state: "SUPERSEDED", reason: "This version could not be published again: Shopify refused.", publishError: null }),
    ).toBe("This version could not be published again: Shopify refused.");
    expect(versionNote({ state: "PUBLISHED", reason: null, publishError: null })).toBeNull();
  });
});

/** Every reason the worker and the models store on an item, with values like the ones they send. */
const STORED_REASONS: Record<string, MessageParams> = {
  itemHeldAltered: {},
  itemHeldCutOff: {},
  itemHeldRules: {},
  itemHeldForReview: {},
  itemPipelineGone: { pipeline: "etsy" },
  itemSourceTooLarge: { width: 9000, height: 9000, limit: 40 },
  itemResultLost: {},
  itemMediaDeleted: {},
  itemFailedAfterAttempts: { attempts: 3, detail: "socket hang up" },
  itemFailedUnexpected: { detail: "Media is still processing" },
  itemShopifyRefused: { detail: "Media is invalid" },
  itemReconnect: {},
  itemNotInstalled: {},
  itemShopFrozen: {},
  itemShopLocked: {},
  itemDownloadFailed: { detail: "HTTP 404" },
  itemImageEmpty: {},
  itemImageTooLarge: { size: "31.2", limit: 20 },
  itemImageUnsupported: { format: "SVG" },
  itemImageCorrupt: {},
  itemImageTruncated: {},
  itemImageTooManyPixels: { limit: 50 },
  itemImageTooSmall: { width: 200, height: 150, minSide: 500 },
  itemImageAspect: { width: 8000, height: 400 },
  itemImageTooDetailed: {},
  itemResultDamaged: {},
  itemNoProduct: {},
  itemEditRefused: { code: "InvalidParameter" },
  itemEditSensitive: { code: "DataInspectionFailed" },
  itemEditUnavailable: { code: "Arrearage" },
  itemResultRefused: { code: "ResultTooLarge" },
  itemRepublishFailed: { detail: "Media is invalid." },
  itemRestoreFailed: { detail: "Media is invalid." },
  itemRejectedByYou: {},
  itemSetAsideForTry: {},
  itemSetAsideForOther: {},
  itemSupersededByLater: {},
  itemCancelledUninstalled: {},
  itemCancelledWithRun: {},
};

/** Item codes that answer a merchant's action rather than being stored as a reason. */
const ITEM_ACTION_ANSWERS = new Set(["itemApproved", "itemRejected", "itemRestored", "itemNotFound", "itemNotInBatch"]);

describe("an item's stored reason, in the viewer's language", () => {
  const inSpanish = (msg: Said) => formatIn(msg, i18nFor("es").t);

  it("covers every stored reason the app declares (a new one needs its sample here)", () => {
    const declared = MESSAGE_CODES.filter((code) => code.startsWith("item") && !ITEM_ACTION_ANSWERS.has(code));
    expect(Object.keys(STORED_REASONS).sort()).toEqual([...declared].sort());
  });
  const reasonMessage = (code: string): MerchantMessage => ({ code: code as MessageCode, params: STORED_REASONS[code] });

  it.each(Object.keys(STORED_REASONS))("a Spanish viewer reads %s in Spanish, its values in place", (code) => {
    const english = formatMessage(reasonMessage(code));
    const spanish = inSpanish(reasonMessage(code));
    expect(spanish).not.toBe(english);
    expect(spanish).not.toMatch(/\{\{|messages\./);
    for (const value of Object.values(STORED_REASONS[code]!)) expect(spanish).toContain(String(value));
    // Where the gallery shows it: a failed image's verdict, a cancelled image's line, a version's note.
    const failed = item("FAILED", { reason: english, reasonMessage: reasonMessage(code) });
    expect(inSpanish(verdictFor(failed, amazon).message)).toBe(`Falló: ${spanish}`);
    expect(inSpanish(versionNote({ state: "REJECTED", reason: english, reasonMessage: reasonMessage(code) })!)).toBe(spanish);
  });

  it("shows the English reason of a row written before reasons had codes", () => {
    const legacy = item("FAILED", { reason: "The original image could not be downloaded: HTTP 404" });
    expect(inSpanish(verdictFor(legacy, amazon).message)).toBe("Falló: The original image could not be downloaded: HTTP 404");
    expect(inSpanish(heldOrCancelledNote(item("CANCELLED", { reason: "Cancelled with its whole-catalogue run." }), amazon)!)).toBe(
      "Cancelled with its whole-catalogue run.",
    );
    expect(inSpanish(versionNote({ state: "SUPERSEDED", reason: "Another version of this image was published after it." })!)).toBe(
      "Another version of this image was published after it.",
    );
  });

  it("words a held image's missed rule from its report, as the verdict does, rather than the stored sentence", () => {
    const held = item("NEEDS_REVIEW", {
      compliance: report({ coverage: 0.62 }),
      reason: "Does not meet every rule: Coverage (62%, expected 85%).",
      reasonMessage: { code: "itemHeldRules" },
    });
    expect(inSpanish(heldOrCancelledNote(held, amazon)!)).toBe(
      "En revisión: El producto ocupa el 62 % del encuadre; Amazon pide alrededor del 85 %",
    );
    const waiting = item("NEEDS_REVIEW", {
      reason: "Waiting for your review (review before publishing is on).",
      reasonMessage: { code: "itemHeldForReview" },
    });
    expect(inSpanish(heldOrCancelledNote(waiting, amazon)!)).toBe("Espera tu revisión (la revisión antes de publicar está activada).");
  });

  it("says why publishing a version again failed in the viewer's language", () => {
    const note = versionNote({
      state: "REJECTED",
      reason: "Rejected by the merchant; the original image was kept.",
      reasonMessage: { code: "itemRejectedByYou" },
      publishError: "Shopify refused the change: Media is invalid.",
      publishErrorMessage: { code: "itemShopifyRefused", params: { detail: "Media is invalid" } },
    });
    expect(inSpanish(note!)).toMatch(/Shopify rechazó el cambio: Media is invalid\./);
    expect(inSpanish(note!)).not.toMatch(/Publishing|Rejected/);
  });
});
