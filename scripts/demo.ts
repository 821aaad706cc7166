/**
 * `npm run demo`: the main job end to end on this machine. Starts the Shopify stand-in (a store with a
 * dozen products and ~30 images) and the DashScope stand-in (or the real DashScope when
 * DASHSCOPE_API_KEY is set and DEMO_DASHSCOPE_EMULATOR is not "1"), runs the app's worker as a child
 * process, seeds credits, submits a batch through createBatch (the UI's code path), shows progress,
 * then prints a table and writes demo-output/contact-sheet.png and demo-output/results.json.
 * Exits 0 only if every image ended as the table says (checked against the store and the ledger).
 *
 * `npm run demo -- --real-photos [--limit N]` (or DEMO_REAL_PHOTOS=1, DEMO_PHOTO_LIMIT=N) stocks the store with
 * real product photos of the corpus instead (REAL_PHOTO_CORPUS, default ../shared/corpus/real-photos; N photos,
 * default 30, taken in turn from each category), uploaded through the Admin API as a merchant's store gets them,
 * and the DashScope stand-in edits them like a generative model (its realPhotos mode).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { MASK_FLAWS } from "../bench/lib/corpus-mask-flaws";
import { loadCorpus, type CorpusEntry, type RealPhotoCorpus } from "../emulators/dashscope/real-photo-edit";
import { installEmulatorDispatcher } from "../emulators/dispatcher";
import { installShopOffline } from "../emulators/shopify-admin/install";
import { seedProductPhotos, type SeedPhoto } from "../emulators/shopify-admin/seed-products";
import { ensureMigratedDatabase } from "./migrate";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PG_BASE = process.env.DEMO_PG_BASE ?? "postgresql://postgres@127.0.0.1:5432";
const DEMO_DB = process.env.DEMO_DATABASE_NAME ?? "imgapp_demo";
const OUTPUT_DIR = path.resolve(ROOT, process.env.DEMO_OUTPUT_DIR ?? "demo-output");
const REAL_PHOTOS = process.argv.includes("--real-photos") || process.env.DEMO_REAL_PHOTOS === "1";
const DEFAULT_PHOTO_LIMIT = 30;
const PIPELINE = process.env.DEMO_PIPELINE ?? "amazon";
const API_KEY = process.env.SHOPIFY_API_KEY ?? "demo-api-key";
const API_SECRET = process.env.SHOPIFY_API_SECRET ?? "demo-api-secret";

// The app reads its configuration from the environment: set it before any app module is imported.
process.env.DATABASE_URL = `${PG_BASE}/${DEMO_DB}`;
process.env.SHOPIFY_API_KEY = API_KEY;
process.env.SHOPIFY_API_SECRET = API_SECRET;
process.env.SHOPIFY_APP_URL ??= "https://demo-app.example.test";
process.env.SCOPES ??= "read_products,write_products,write_files,read_locales";
// The stand-ins are http://127.0.0.1: the only exception to the production download policy.
process.env.SAFE_FETCH_LOCAL_HOSTS = "127.0.0.1";
process.env.LOG_LEVEL ??= "warn";

if (process.argv.includes("--worker")) {
  // Child: the app's worker, with *.myshopify.com routed to the stand-in.
  installEmulatorDispatcher();
  const { runWorker } = await import("../worker");
  const { stop } = await runWorker();
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
} else {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`demo failed: ${error.stack ?? error.message}`);
      process.exit(1);
    },
  );
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The contact sheet's note that the original shows only part of the product (a reason it is held), or "". */
function framingCaption(framing: { edges: string[] } | null): string {
  return framing ? ` · original cut off: ${framing.edges.join(", ")}` : "";
}

function pad(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** `--limit N`, `--limit=N` or DEMO_PHOTO_LIMIT; null when it is not a positive whole number. */
function photoLimit(argv: readonly string[]): number | null {
  const at = argv.indexOf("--limit");
  const raw =
    at >= 0 ? argv[at + 1] : (argv.find((a) => a.startsWith("--limit="))?.slice("--limit=".length) ?? process.env.DEMO_PHOTO_LIMIT);
  if (raw === undefined || raw === "") return DEFAULT_PHOTO_LIMIT;
  const limit = Number(raw);
  return Number.isInteger(limit) && limit > 0 ? limit : null;
}

/** `limit` photos taken in turn from each category (the corpus lists them category by category). */
function pickCorpusPhotos(corpus: RealPhotoCorpus, limit: number): CorpusEntry[] {
  const byCategory = new Map<string, CorpusEntry[]>();
  for (const entry of corpus.entries) byCategory.set(entry.category, [...(byCategory.get(entry.category) ?? []), entry]);
  const queues = [...byCategory.values()];
  const picked: CorpusEntry[] = [];
  for (let round = 0; picked.length < Math.min(limit, corpus.entries.length); round++) {
    for (const queue of queues) if (queue[round] && picked.length < limit) picked.push(queue[round]!);
  }
  return picked;
}

/** A corpus photo for the store, and whether its corpus mask misses the product (its faithful edit is expected held). */
type CorpusSeedPhoto = SeedPhoto & { maskFlawed: boolean };

async function corpusSeedPhotos(corpus: RealPhotoCorpus, entries: CorpusEntry[]): Promise<CorpusSeedPhoto[]> {
  const counts = new Map<string, number>();
  return Promise.all(
    entries.map(async (entry) => {
      const n = (counts.get(entry.category) ?? 0) + 1;
      counts.set(entry.category, n);
      const title = `${entry.category[0]!.toUpperCase()}${entry.category.slice(1)} ${n}`;
      return {
        title,
        bytes: await readFile(path.join(corpus.dir, entry.photo)),
        filename: path.basename(entry.photo),
        mimeType: "image/jpeg",
        alt: `${title} (corpus photo ${entry.id})`,
        productType: entry.category,
        tags: ["real-photo-corpus", entry.category],
        maskFlawed: entry.id in MASK_FLAWS,
      };
    }),
  );
}

async function main(): Promise<number> {
  const started = Date.now();
  let corpus: RealPhotoCorpus | null = null;
  let photos: CorpusSeedPhoto[] = [];
  if (REAL_PHOTOS) {
    const limit = photoLimit(process.argv);
    if (limit === null) {
      console.error("demo: --limit (or DEMO_PHOTO_LIMIT) must be a whole number of photos above 0, e.g. --limit 10");
      return 2;
    }
    try {
      corpus = await loadCorpus();
    } catch (error) {
      console.error(`demo: ${(error as Error).message}`);
      return 2;
    }
    photos = await corpusSeedPhotos(corpus, pickCorpusPhotos(corpus, limit));
    console.log(`• real photos: ${photos.length} of the ${corpus.entries.length} in ${corpus.dir}`);
  }
  console.log("• database", DEMO_DB);
  await ensureMigratedDatabase(`${PG_BASE}/${DEMO_DB}`);
  installEmulatorDispatcher();

  const { startShopifyEmulator } = await import("../emulators/shopify-admin/server");
  const { startDashScopeEmulator } = await import("../emulators/dashscope/server");
  const { createPrismaClient } = await import("~/db.server");
  const { grantCredits, getBalance, CREDITS_PER_IMAGE } = await import("~/models/credit-ledger.server");
  const { createBatch, getBatchProgress } = await import("~/models/batches.server");
  const { findStoredImageById } = await import("~/models/stored-images.server");
  const { readFraming } = await import("~/components/batch/report-model");
  const { getQueue, closeQueues } = await import("~/queue/queue.server");

  const shopify = await startShopifyEmulator({ apiKey: API_KEY, apiSecret: API_SECRET, fileReadyDelayMs: 100 });
  process.env.SHOPIFY_EMULATOR_URL = shopify.url;
  const shop = `demo-${randomUUID().slice(0, 6)}.myshopify.com`;
  if (corpus) {
    shopify.addShop(shop, { products: 0 });
    // The merchant's own admin access (not the app's): products and photos arrive as uploads through the Admin API.
    await seedProductPhotos({ url: shopify.url, shop, accessToken: shopify.grantAccessToken(shop) }, photos);
  } else {
    shopify.addShop(shop, { products: 12, imagesPerProduct: (i: number) => 1 + (i % 4) });
  }
  const before = new Map(
    shopify.products(shop).flatMap((p) => p.media.map((m) => [m.id, { ...m, productId: p.id, productTitle: p.title }] as const)),
  );
  console.log(`• Shopify stand-in ${shopify.url}: ${shop}, ${shopify.products(shop).length} products, ${before.size} images`);

  const useRealQwen = Boolean(process.env.DASHSCOPE_API_KEY) && process.env.DEMO_DASHSCOPE_EMULATOR !== "1";
  let dashscope: Awaited<ReturnType<typeof startDashScopeEmulator>> | null = null;
  if (useRealQwen) {
    console.log("• Qwen: the real DashScope API (DASHSCOPE_API_KEY is set)");
  } else {
    process.env.DASHSCOPE_API_KEY = "sk-demo-emulator";
    dashscope = await startDashScopeEmulator({ apiKey: process.env.DASHSCOPE_API_KEY, latencyMs: 400, rps: 4, realPhotos: corpus?.dir });
    process.env.DASHSCOPE_BASE_URL = dashscope.url;
    console.log(`• DashScope stand-in ${dashscope.url}${corpus ? " (edits the corpus photos like a generative model)" : ""}`);
  }

  const db = createPrismaClient(undefined, 4);
  await installShopOffline(db, shopify.url, shop, { apiKey: API_KEY, apiSecret: API_SECRET });
  const seeded = before.size * CREDITS_PER_IMAGE + 9;
  await grantCredits(db, shop, seeded, { kind: "GRANT", idempotencyKey: `demo-seed:${shop}` });
  console.log(`• seeded ${seeded} credits`);

  const queueName = `demo-${randomUUID().slice(0, 8)}`;
  process.env.QUEUE_NAME = queueName;
  const worker: ChildProcess = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/demo.ts"), "--worker"], {
    cwd: ROOT,
    env: {
      ...process.env,
      WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? "4",
      QWEN_MAX_RPS: process.env.QWEN_MAX_RPS ?? "4",
      SWEEP_INTERVAL_MS: "2000",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  console.log(`• worker started (pid ${worker.pid}, queue ${queueName})`);

  let exitCode = 1;
  try {
    const { offlineSessions } = await import("~/shopify.server");
    const graphql = offlineSessions.adminGraphql(shop);
    // The CDN keeps a media's URL when its file is replaced, so keep the "before" bytes now.
    const originals = new Map<string, Buffer>();
    for (const [mediaId, media] of before) {
      const response = await fetch(media.url);
      if (response.ok) originals.set(mediaId, Buffer.from(await response.arrayBuffer()));
    }
    // Every image of the store, sent as the Images page sends a selection: with the product of each image, so it is
    // looked up by product rather than found in the first catalogue pages only.
    const batch = await createBatch({ db, graphql, queue: getQueue(queueName) }, shop, {
      mediaIds: [...before.keys()],
      productIds: [...new Set([...before.values()].map((media) => media.productId))],
      pipeline: PIPELINE,
    });
    console.log(`• batch ${batch.batchId}: ${batch.queued} images queued, ${batch.creditsReserved} credits reserved`);
    for (const { mediaId, reason } of batch.skipped) console.log(`  not queued: ${mediaId}: ${reason}`);

    let progress = await getBatchProgress(db, shop, batch.batchId);
    const deadline = Date.now() + Number(process.env.DEMO_TIMEOUT_MS ?? 600_000);
    let lastLine = "";
    while (progress && progress.batch.status === "ACTIVE" && progress.counts.QUEUED + progress.counts.PROCESSING > 0) {
      if (Date.now() > deadline) throw new Error("the batch did not finish in time");
      if (worker.exitCode !== null) throw new Error(`the worker exited with code ${worker.exitCode}`);
      const c = progress.counts;
      const line = `  ${progress.done}/${progress.total} done · published ${c.PUBLISHED} · review ${c.NEEDS_REVIEW} · failed ${c.FAILED} · in progress ${c.PROCESSING}${progress.etaSeconds !== null ? ` · ETA ${progress.etaSeconds}s` : ""}`;
      if (line !== lastLine) console.log(line);
      lastLine = line;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      progress = await getBatchProgress(db, shop, batch.batchId);
    }
    if (!progress) throw new Error("batch vanished");

    const reservations = new Map(
      (await db.creditReservation.findMany({ where: { shop, batchItemId: { in: progress.items.map((i) => i.id) } } })).map((r) => [
        r.batchItemId,
        r,
      ]),
    );
    const backups = new Map((await db.imageBackup.findMany({ where: { shop } })).map((b) => [b.mediaId, b]));
    const after = new Map(shopify.products(shop).flatMap((p) => p.media.map((m) => [m.id, { ...m, productId: p.id }] as const)));
    const problems: string[] = [];
    const rows: Array<Record<string, string>> = [];
    for (const item of progress.items) {
      const was = before.get(item.mediaId);
      const now = after.get(item.mediaId);
      const reservation = reservations.get(item.id);
      const compliance = item.compliance as { passed?: boolean; rules?: Array<{ id: string; passed: boolean }> } | null;
      const fidelity = item.fidelity as { score?: number; verdict?: string } | null;
      const stored = item.resultImageId ? await findStoredImageById(db, shop, item.resultImageId) : null;
      const credits =
        reservation?.state === "CAPTURED"
          ? `${reservation.amount} charged`
          : reservation?.state === "RELEASED"
            ? "0 (returned)"
            : `${reservation?.amount ?? 0} held`;
      rows.push({
        image: `#${item.position} ${item.mediaId.split("/").pop()}`,
        product: item.productTitle,
        pipeline: progress.batch.pipeline,
        result: item.state === "NEEDS_REVIEW" ? "held for review" : item.state.toLowerCase(),
        compliance:
          compliance?.passed === undefined
            ? "-"
            : compliance.passed
              ? "pass"
              : `fail (${compliance.rules
                  ?.filter((r) => !r.passed)
                  .map((r) => r.id)
                  .join(",")})`,
        fidelity: fidelity?.score === undefined ? "-" : `${fidelity.score.toFixed(3)} ${fidelity.verdict}`,
        credits,
        reason: item.reason ?? "",
      });
      // Check the table against the store and the ledger.
      if (!was || !now) problems.push(`${item.mediaId}: the image is missing from its product`);
      else {
        if (now.productId !== was.productId || now.position !== was.position || now.alt !== was.alt)
          problems.push(`${item.mediaId}: moved or lost its alt text`);
        if (item.state === "PUBLISHED") {
          if (reservation?.state !== "CAPTURED") problems.push(`${item.mediaId}: published but credits not charged`);
          if (!stored || now.sha256 !== sha256(Buffer.from(stored.bytes)))
            problems.push(`${item.mediaId}: published but the product does not show the processed image`);
          const backup = backups.get(item.mediaId);
          const backupFile = backup?.fileId ? shopify.files(shop).find((f) => f.id === backup.fileId) : undefined;
          if (backupFile?.sha256 !== was.sha256) problems.push(`${item.mediaId}: published but the original is not backed up in Files`);
        } else {
          if (now.sha256 !== was.sha256) problems.push(`${item.mediaId}: ${item.state} but the product image changed`);
          if (item.state === "FAILED" && reservation?.state !== "RELEASED")
            problems.push(`${item.mediaId}: failed but credits not returned`);
          if (item.state === "NEEDS_REVIEW" && reservation?.state !== "HELD")
            problems.push(`${item.mediaId}: in review but credits not held`);
        }
      }
    }
    for (const product of shopify.products(shop)) {
      const ids = product.media.map((m) => m.id);
      if (new Set(ids).size !== ids.length) problems.push(`${product.title}: duplicate media`);
    }
    if (after.size !== before.size) problems.push(`the store has ${after.size} images, it had ${before.size}`);
    if (batch.skipped.length) problems.push(`${batch.skipped.length} of the store's ${before.size} images were not queued`);
    const published = progress.counts.PUBLISHED;
    const held = progress.counts.NEEDS_REVIEW;
    const balance = await getBalance(db, shop);
    const expectedAvailable = seeded - (published + held) * CREDITS_PER_IMAGE;
    if (balance.available !== expectedAvailable) problems.push(`balance is ${balance.available}, expected ${expectedAvailable}`);

    const columns: Array<[string, number]> = [
      ["image", 16],
      ["product", 22],
      ["pipeline", 9],
      ["result", 16],
      ["compliance", 22],
      ["fidelity", 16],
      ["credits", 13],
    ];
    console.log(`\n${columns.map(([name, width]) => pad(name, width)).join(" ")}`);
    console.log(columns.map(([, width]) => "-".repeat(width)).join(" "));
    for (const row of rows) console.log(columns.map(([name, width]) => pad(row[name] ?? "", width)).join(" "));
    for (const row of rows.filter((r) => r.reason)) console.log(`  ${row.image}: ${row.reason}`);
    console.log(
      `\n${published} published, ${held} held for review, ${progress.counts.FAILED} failed; ${published * CREDITS_PER_IMAGE} credits charged; balance ${balance.available} available + ${balance.reserved} reserved; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const heldItems = progress.items.filter((i) => i.state === "NEEDS_REVIEW");
    const flawedTitles = new Set(photos.filter((photo) => photo.maskFlawed).map((photo) => photo.title));
    const summary = {
      images: progress.total,
      published,
      publishedPercent: progress.total ? Math.round((1000 * published) / progress.total) / 10 : 0,
      held,
      heldProductMayBeAltered: heldItems.filter((i) => (i.fidelity as { verdict?: string } | null)?.verdict === "altered").length,
      heldRulesFailed: heldItems.filter((i) => (i.compliance as { passed?: boolean } | null)?.passed === false).length,
      heldOriginalCutOff: heldItems.filter((i) => readFraming(i.framing)).length,
      // The stand-in composes its edit from the corpus mask: where the mask misses the product, so does the edit.
      heldCorpusMaskFlawed: heldItems.filter((i) => flawedTitles.has(i.productTitle)).length,
      failed: progress.counts.FAILED,
    };
    console.log(
      `${corpus ? "real photos" : "generated images"}: ${summary.published} of ${summary.images} published without review (${summary.publishedPercent}%); ` +
        `${summary.held} held for review (reasons, an image may have several: product may be altered ${summary.heldProductMayBeAltered}, rules not met ${summary.heldRulesFailed}, ` +
        `original shows only part of the product ${summary.heldOriginalCutOff}); ${summary.failed} failed` +
        (corpus
          ? `\n  of the held, ${summary.heldCorpusMaskFlawed} photos whose corpus mask does not match the product (bench/lib/corpus-mask-flaws.ts): ` +
            "the stand-in's edit shows what the mask shows, so holding them is right"
          : ""),
    );

    await mkdir(OUTPUT_DIR, { recursive: true });
    await writeContactSheet(progress.items, originals, db, shop);
    await writeFile(
      path.join(OUTPUT_DIR, "results.json"),
      JSON.stringify(
        {
          shop,
          batchId: batch.batchId,
          source: corpus ? "real-photos" : "generated",
          summary,
          rows,
          problems,
          balance,
          dashscope: dashscope?.stats() ?? null,
        },
        null,
        2,
      ),
    );
    console.log(`• wrote ${path.relative(ROOT, path.join(OUTPUT_DIR, "contact-sheet.png"))} and results.json`);

    if (problems.length) {
      console.error(`\nFAILED checks:\n  ${problems.join("\n  ")}`);
    } else {
      console.log("\nall checks passed: every image is where it was, changed only if published, charged only if published");
      exitCode = 0;
    }
    if (dashscope) console.log(`DashScope stand-in: ${JSON.stringify(dashscope.stats())}`);
  } finally {
    worker.kill("SIGTERM");
    await new Promise((resolve) => (worker.exitCode !== null ? resolve(null) : worker.once("exit", resolve)));
    // The demo's queue was its own (a random name): leave nothing of it in Redis.
    await getQueue(queueName)
      .obliterate({ force: true })
      .catch(() => undefined);
    await closeQueues();
    await db.$disconnect();
    await shopify.close();
    await dashscope?.close();
  }
  return exitCode;

  async function writeContactSheet(
    items: Array<{
      id: string;
      mediaId: string;
      resultImageId: string | null;
      productTitle: string;
      state: string;
      position: number;
      compliance: unknown;
      fidelity: unknown;
      framing: unknown;
    }>,
    originals: Map<string, Buffer>,
    client: typeof db,
    shopDomain: string,
  ): Promise<void> {
    const cell = 220;
    const label = 34;
    const header = 36;
    const pairsPerRow = 2;
    const rowsCount = Math.ceil(items.length / pairsPerRow);
    const width = cell * 2 * pairsPerRow;
    const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const text = (w: number, h: number, body: string, size = 13, weight = "normal") =>
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><text x="6" y="${Math.round(h / 2 + size / 3)}" font-family="DejaVu Sans, sans-serif" font-size="${size}" font-weight="${weight}" fill="#222">${escape(body)}</text></svg>`,
      );
    // A thin grey frame shows where a white background ends.
    const thumb = async (bytes: Buffer) => {
      const inner = await sharp(bytes)
        .resize(cell - 14, cell - 14, { fit: "contain", background: "#ffffff" })
        .flatten({ background: "#ffffff" })
        .png()
        .toBuffer();
      return sharp({ create: { width: cell - 12, height: cell - 12, channels: 3, background: "#c8c8c8" } })
        .composite([{ input: inner, left: 1, top: 1 }])
        .png()
        .toBuffer();
    };
    const tiles: Parameters<ReturnType<typeof sharp>["composite"]>[0] = [];
    for (let pair = 0; pair < pairsPerRow; pair++) {
      tiles.push({ input: text(cell, header, "before (store original)", 15, "bold"), left: pair * cell * 2, top: 0 });
      tiles.push({ input: text(cell, header, `after (${PIPELINE})`, 15, "bold"), left: pair * cell * 2 + cell, top: 0 });
    }
    for (const [index, item] of items.entries()) {
      const x = (index % pairsPerRow) * cell * 2;
      const y = header + Math.floor(index / pairsPerRow) * (cell + label);
      const original = originals.get(item.mediaId);
      const stored = item.resultImageId ? await findStoredImageById(client, shopDomain, item.resultImageId) : null;
      if (original) tiles.push({ input: await thumb(original), left: x + 6, top: y + 6 });
      if (stored) tiles.push({ input: await thumb(Buffer.from(stored.bytes)), left: x + cell + 6, top: y + 6 });
      const compliance = item.compliance as { passed?: boolean } | null;
      const fidelity = item.fidelity as { score?: number; verdict?: string } | null;
      const verdict = item.state === "NEEDS_REVIEW" ? "held for review" : item.state.toLowerCase();
      const checks = [
        compliance?.passed === undefined ? null : compliance.passed ? "rules pass" : "rules fail",
        fidelity?.score === undefined
          ? null
          : `fidelity ${fidelity.score.toFixed(2)} (${fidelity.verdict === "altered" ? "product may be altered" : "unchanged"})`,
      ].filter(Boolean);
      tiles.push({
        input: text(
          cell * 2,
          label / 2,
          `${item.productTitle} #${item.position}: ${verdict}${framingCaption(readFraming(item.framing))}`,
          12,
          "bold",
        ),
        left: x,
        top: y + cell - 4,
      });
      tiles.push({ input: text(cell * 2, label / 2, checks.join(" · "), 12), left: x, top: y + cell - 4 + label / 2 });
    }
    await sharp({ create: { width, height: header + rowsCount * (cell + label), channels: 3, background: "#ffffff" } })
      .composite(tiles)
      .png({ compressionLevel: 9 })
      .toFile(path.join(OUTPUT_DIR, "contact-sheet.png"));
  }
}
