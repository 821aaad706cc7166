/**
 * Whole-catalogue runs: "clean every image matching a filter" for catalogues of any size.
 *
 * 1. COUNTING: the catalogue is read once with a bulk operation (`bulkOperationRunQuery`, JSONL result), never page
 *    by page in a web request; its images are stored as the run's list (CatalogRunImage, in order).
 * 2. READY: the merchant sees how many images match and what they cost, and confirms.
 * 3. RUNNING: the run's job adds the next chunk of images to the run's batch whenever fewer than a chunk are waiting,
 *    reserving only that chunk's credits (addFundedItems), so a 10,000-image run never holds 30,000 credits and the
 *    images join the image queue under the shop's fair share a chunk at a time.
 * 4. PAUSED when the run's budget or the balance cannot pay for the next image (the rest wait, the reason says what to
 *    do; resuming continues where it stopped), or when Shopify refuses the store (frozen or locked, see
 *    shop-availability.server.ts); DONE, CANCELLED (waiting images are taken out, their credits given back) or FAILED
 *    (the bulk operation failed).
 * All state is in the database and the job is re-run by stalled-job recovery (or the worker's resume on start), so a
 * killed worker loses nothing: images are marked added in the same transaction that writes their items.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { Prisma, type BatchItem, type CatalogRun, type CatalogRunImage, type PrismaClient } from "@prisma/client";
import { z } from "zod";
import { isPipelineId, PIPELINE_IDS, type PipelineId } from "~/imaging/pipelines";
import { runGraphql, ShopifyUserError, type AdminGraphql } from "~/lib/admin-graphql.server";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import { checkUrlAllowed, fetchPolicyFromEnv } from "~/lib/safe-fetch.server";
import {
  addFundedItems,
  cancelItems,
  fairShareEtaSeconds,
  getQueueLoad,
  type FundedItemsInput,
  type FundingLimit,
} from "~/models/batches.server";
import { IN_FLIGHT_ITEM_STATES, ITEM_STATES } from "~/models/batch-item-states";
import { gidNumber, type ProductImage } from "~/models/catalog.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { getSettings, pipelineSettingsFrom } from "~/models/settings.server";
import { unlessShopRefused, type ShopUnavailableStatus } from "~/models/shop-availability.server";
import { RunAgainLater, type AutomationWork, type ImageWork } from "~/models/work-queues.server";
import { checkboxField, choiceField, fieldErrors, optionalCreditsField } from "~/lib/form-fields";
import { AppError } from "~/lib/app-error";
import { storedMessage, type MerchantMessage, type MerchantText } from "~/lib/merchant-message";
import { storeRefusedImages, storeRefusedRetry } from "~/models/store-refused-tries.server";
import { groupVersions } from "~/models/versions";

/** Images added to the batch at a time; the next chunk is added when fewer than this are waiting. */
const CATALOG_CHUNK = getConfig().CATALOG_RUN_CHUNK;
/** How often a running job looks again (its chunk's progress). */
function tickMs(): number {
  return getConfig().CATALOG_RUN_TICK_MS;
}
/**
 * How often a counting job reads its bulk operation. Only a fallback: bulk_operations/finish wakes the job when the
 * operation ends, so this catches a webhook that was lost.
 */
function bulkPollMs(): number {
  return getConfig().CATALOG_BULK_POLL_MS;
}
/** Where Shopify serves bulk operation results. */
const BULK_RESULT_HOSTS = ["storage.googleapis.com"];

const CATALOG_FILTER_KINDS = ["all", "collection", "productType", "tag"] as const;

export interface CatalogFilter {
  kind: (typeof CATALOG_FILTER_KINDS)[number];
  /** The product type or tag, or the collection's id (for those kinds). */
  value: string | null;
  /** The collection's title when the run started, to show the run by name. */
  label?: string | null;
  /** Leave out images the app already processed (in any batch, or backed up). */
  onlyUnprocessed: boolean;
}

export class CatalogRunError extends AppError {
  declare readonly httpStatus: 400 | 404 | 409 | 422;
  constructor(message: string, httpStatus: 400 | 404 | 409 | 422, merchant: MerchantMessage | null = null) {
    super(message, { httpStatus, merchant });
    this.name = "CatalogRunError";
  }
}

const COLLECTION_GID = /^gid:\/\/shopify\/Collection\/\d+$/;

/** Why a run cannot start or resume while Shopify refuses the store (402 frozen, 423 locked). */
const STORE_REFUSED: Record<ShopUnavailableStatus, MerchantText> = {
  402: {
    text: "Shopify has frozen this store until its outstanding Shopify bill is paid, so its images cannot be changed. Pay the bill in your Shopify admin, then try again.",
    message: { code: "catalogShopFrozen" },
  },
  423: {
    text: "Shopify has locked this store, so its images cannot be changed. Contact Shopify support to unlock the store, then try again.",
    message: { code: "catalogShopLocked" },
  },
};

/** Why a run paused when Shopify refused the store while it counted or ran. */
const PAUSED_FOR_STORE: Record<ShopUnavailableStatus, MerchantText> = {
  402: {
    text: "Paused: Shopify has frozen this store until its outstanding Shopify bill is paid, so no image can be changed and nothing more is charged. Pay the bill in your Shopify admin, then resume the run: it goes on where it stopped.",
    message: { code: "catalogPausedShopFrozen" },
  },
  423: {
    text: "Paused: Shopify has locked this store, so no image can be changed and nothing more is charged. Contact Shopify support to unlock the store, then resume the run: it goes on where it stopped.",
    message: { code: "catalogPausedShopLocked" },
  },
};

/** The run's reason when it paused for the store (a stored message code). */
const storePauseFilter = {
  OR: (["catalogPausedShopFrozen", "catalogPausedShopLocked"] as const).map((code) => ({
    reasonMessage: { path: ["code"], equals: code },
  })),
} satisfies Prisma.CatalogRunWhereInput;

/**
 * Asks Shopify whether a store marked refused answers again, before a run starts or resumes: still refused, the
 * merchant is told what to do (CatalogRunError) and nothing is created or reserved. Also turns a refusal met by the
 * caller's own request (`work`) into that answer, marking the shop.
 */
async function whileStoreOpen<T>(db: PrismaClient, graphql: AdminGraphql, shop: string, work: () => Promise<T>): Promise<T> {
  const outcome = await unlessShopRefused(db, shop, () => graphql, work);
  if ("refused" in outcome) throw new CatalogRunError(STORE_REFUSED[outcome.refused].text, 409, STORE_REFUSED[outcome.refused].message);
  return outcome.value;
}

/** A run's budget at most (333,333 images). */
export const MAX_RUN_BUDGET = 1_000_000;

/** A run's budget in credits, from its form (at the start, or when it is confirmed or resumed); empty is none. */
export const runBudgetField = optionalCreditsField({
  min: CREDITS_PER_IMAGE,
  minLabel: "one image",
  max: MAX_RUN_BUDGET,
  empty: "to use only your balance",
});

const startSchema = z
  .object({
    filterKind: choiceField(CATALOG_FILTER_KINDS, "Choose all products, a collection, a product type or a tag."),
    filterValue: z.string().trim().max(255, "Use at most 255 characters.").optional().default(""),
    onlyUnprocessed: checkboxField,
    pipeline: choiceField(PIPELINE_IDS, `Choose one of the pipelines: ${PIPELINE_IDS.join(", ")}.`),
    budget: runBudgetField,
  })
  .superRefine((value, ctx) => {
    if (value.filterKind === "collection" && !COLLECTION_GID.test(value.filterValue)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["filterValue"], message: "Choose a collection." });
    } else if (value.filterKind !== "all" && !value.filterValue) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["filterValue"],
        message: value.filterKind === "tag" ? "Enter the tag." : "Enter the product type.",
      });
    }
  });

export type CatalogRunErrors = Partial<Record<"filterKind" | "filterValue" | "pipeline" | "budget", string>>;

export function parseCatalogRunInput(
  input: Record<string, unknown>,
): { ok: true; filter: CatalogFilter; pipeline: PipelineId; budget: number | null } | { ok: false; errors: CatalogRunErrors } {
  const parsed = startSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: fieldErrors<keyof CatalogRunErrors>(parsed.error.issues) };
  }
  const { filterKind, filterValue, onlyUnprocessed, pipeline, budget } = parsed.data;
  return {
    ok: true,
    filter: { kind: filterKind, value: filterKind === "all" ? null : filterValue, onlyUnprocessed },
    pipeline: pipeline as PipelineId,
    budget,
  };
}

/** Shopify's product search for a filter (quoted, so a value with spaces or colons is one term). */
export function productSearchFor(filter: CatalogFilter): string | null {
  const quoted = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  if (filter.kind === "collection") return `collection_id:${gidNumber(filter.value ?? "")}`;
  if (filter.kind === "productType") return `product_type:${quoted(filter.value ?? "")}`;
  if (filter.kind === "tag") return `tag:${quoted(filter.value ?? "")}`;
  return null;
}

// The search is written into the document (a bulk query takes no variables); an empty search matches every product.
const CATALOG_BULK_QUERY = `#graphql
  query CatalogRunImages {
    products(query: "") {
      edges {
        node {
          id
          title
          handle
          media {
            edges {
              node {
                id
                mediaContentType
                ... on MediaImage { alt mimeType status image { url } }
              }
            }
          }
        }
      }
    }
  }`;

/** The bulk query's text for a filter. */
export function catalogBulkQuery(filter: CatalogFilter): string {
  return CATALOG_BULK_QUERY.replace('products(query: "")', `products(query: ${JSON.stringify(productSearchFor(filter) ?? "")})`);
}

const RUN_BULK_QUERY = `#graphql
  mutation CatalogRunBulkQuery($query: String!) {
    bulkOperationRunQuery(query: $query, groupObjects: false) {
      bulkOperation { id status }
      userErrors { field message code }
    }
  }`;

const BULK_OPERATION = `#graphql
  query CatalogRunBulkOperation($id: ID!) {
    bulkOperation(id: $id) { id status errorCode objectCount url }
  }`;

const CANCEL_BULK_OPERATION = `#graphql
  mutation CatalogRunBulkCancel($id: ID!) {
    bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }
  }`;

export interface CatalogRunView {
  id: string;
  status: CatalogRun["status"];
  filter: CatalogFilter;
  pipeline: string;
  budget: number | null;
  reason: string | null;
  /** The reason as a merchant message, for the viewer's language. */
  reasonMessage: MerchantMessage | null;
  batchId: string | null;
  createdAt: Date;
  /** Images the filter matched, and their cost at CREDITS_PER_IMAGE (known once counted). */
  total: number;
  cost: number;
  /** Images added to the batch so far (funded), and how they stand. */
  added: number;
  waiting: number;
  done: number;
  published: number;
  needsReview: number;
  failed: number;
  skipped: number;
  creditsUsed: number;
  creditsHeld: number;
  etaSeconds: number | null;
}

function filterOf(value: Prisma.JsonValue): CatalogFilter {
  const raw = (value && typeof value === "object" && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const kind = (CATALOG_FILTER_KINDS as readonly string[]).includes(String(raw.kind)) ? (raw.kind as CatalogFilter["kind"]) : "all";
  return {
    kind,
    value: typeof raw.value === "string" ? raw.value : null,
    label: typeof raw.label === "string" ? raw.label : null,
    onlyUnprocessed: raw.onlyUnprocessed === true,
  };
}

const COLLECTIONS = `#graphql
  query CatalogRunCollections($first: Int!) {
    collections(first: $first, sortKey: TITLE) {
      nodes { id title productsCount { count } }
    }
  }`;

const COLLECTION = `#graphql
  query CatalogRunCollection($id: ID!) {
    collection(id: $id) { id title }
  }`;

export interface CollectionChoice {
  id: string;
  title: string;
  products: number;
}

/** The collections a run can be limited to, by title (the first 250: a store with more picks by type or tag). */
export async function listCollections(graphql: AdminGraphql): Promise<CollectionChoice[]> {
  const { data } = await runGraphql(graphql, COLLECTIONS, { first: 250 });
  return data.collections.nodes.map((c) => ({ id: c.id, title: c.title, products: c.productsCount?.count ?? 0 }));
}

/** Starts counting: the run is created and its job reads the catalogue with a bulk operation. */
export async function startCatalogRun(
  deps: { db: PrismaClient; automationQueue: AutomationWork; graphql: AdminGraphql },
  shop: string,
  input: Record<string, unknown>,
): Promise<{ ok: true; runId: string } | { ok: false; errors: CatalogRunErrors }> {
  const parsed = parseCatalogRunInput(input);
  if (!parsed.ok) return parsed;
  const collectionGone = await whileStoreOpen(deps.db, deps.graphql, shop, async () => {
    // parseCatalogRunInput makes a collection filter's value a collection gid.
    if (parsed.filter.kind !== "collection" || !parsed.filter.value) return false;
    // Read through the shop's own Admin API: a collection of another shop, or a deleted one, is not found.
    const { data } = await runGraphql(deps.graphql, COLLECTION, { id: parsed.filter.value });
    if (!data.collection) return true;
    parsed.filter.label = data.collection.title;
    return false;
  });
  if (collectionGone)
    return { ok: false, errors: { filterValue: "This collection no longer exists. Reload the page and choose another." } };
  const busy = await deps.db.catalogRun.findFirst({ where: { shop, status: { in: ["COUNTING", "RUNNING"] } }, select: { id: true } });
  if (busy)
    throw new CatalogRunError(
      "A whole-catalogue run is already counting or running. Wait for it, or cancel it, before starting another.",
      409,
      { code: "catalogRunBusy" },
    );
  const run = await deps.db.catalogRun.create({
    // The automation queue's name rides with the filter, so a worker resumes only its own queue's runs.
    data: {
      shop,
      filter: { ...parsed.filter, queue: deps.automationQueue.name } as unknown as Prisma.InputJsonValue,
      pipeline: parsed.pipeline,
      budget: parsed.budget,
    },
  });
  await deps.automationQueue.enqueueCatalogRun(shop, run.id);
  return { ok: true, runId: run.id };
}

async function findRun(db: PrismaClient, shop: string, runId: string): Promise<CatalogRun> {
  const run = await db.catalogRun.findFirst({ where: { id: runId, shop } });
  if (!run) throw new CatalogRunError("This catalogue run was not found.", 404, { code: "catalogRunNotFound" });
  return run;
}

/**
 * The merchant saw the count and the cost: the run starts adding images (READY), or goes on after a pause (PAUSED;
 * a run paused before it was ever started, by a store refused while counting, counts again). With `graphql` (the
 * merchant's request), a store marked refused is asked first and, still refused, the run stays as it is.
 */
export async function confirmCatalogRun(
  deps: { db: PrismaClient; automationQueue: AutomationWork; graphql?: AdminGraphql },
  shop: string,
  runId: string,
  opts: { budget?: number | null } = {},
): Promise<void> {
  const run = await findRun(deps.db, shop, runId);
  if (run.status === "RUNNING") return;
  if (run.status !== "READY" && run.status !== "PAUSED")
    throw new CatalogRunError("Only a counted or paused run can be started.", 409, { code: "catalogRunNotStartable" });
  if (deps.graphql) await whileStoreOpen(deps.db, deps.graphql, shop, () => Promise.resolve());
  // Never confirmed and nothing added: it paused while counting.
  const recount = run.status === "PAUSED" && run.startedAt === null && run.batchId === null;
  const updated = await deps.db.catalogRun.updateMany({
    where: { id: runId, shop, status: { in: ["READY", "PAUSED"] } },
    data: {
      status: recount ? "COUNTING" : "RUNNING",
      reason: null,
      reasonMessage: Prisma.DbNull,
      startedAt: recount ? null : (run.startedAt ?? new Date()),
      ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
    },
  });
  if (updated.count !== 1) return;
  // The pause's reason is also the batch's note in the batch history: resumed, it no longer holds.
  if (run.batchId) await deps.db.batch.updateMany({ where: { id: run.batchId, shop }, data: { note: null, noteMessage: Prisma.DbNull } });
  await deps.automationQueue.enqueueCatalogRun(shop, runId);
}

/**
 * Stops the run: images not yet added never will be; added images still waiting for the model are cancelled and
 * their credits given back (an image already being edited finishes, paid and restorable).
 */
export async function cancelCatalogRun(
  deps: { db: PrismaClient; imageQueue: ImageWork; graphql?: AdminGraphql },
  shop: string,
  runId: string,
): Promise<void> {
  const run = await findRun(deps.db, shop, runId);
  if (run.status === "DONE" || run.status === "CANCELLED" || run.status === "FAILED") return;
  await deps.db.catalogRun.updateMany({
    where: { id: runId, shop, status: { notIn: ["DONE", "CANCELLED", "FAILED"] } },
    data: {
      status: "CANCELLED",
      reason: "Cancelled by you; images not yet cleaned were left as they are.",
      reasonMessage: { code: "catalogCancelledByYou" } satisfies MerchantMessage,
      finishedAt: new Date(),
    },
  });
  if (run.status === "COUNTING" && run.bulkOperationId && deps.graphql) {
    await runGraphql(deps.graphql, CANCEL_BULK_OPERATION, { id: run.bulkOperationId }).catch(() => undefined);
  }
  if (!run.batchId) return;
  await cancelItems(
    { db: deps.db, queue: deps.imageQueue },
    shop,
    ["QUEUED"],
    { batchId: run.batchId },
    {
      text: "Cancelled with its whole-catalogue run.",
      message: { code: "itemCancelledWithRun" },
    },
  );
}

/** One step of a run's job: count (bulk operation), or add the next chunk; throws RunAgainLater while not finished. */
export async function advanceCatalogRun(
  deps: { db: PrismaClient; adminFor(shop: string): Promise<AdminGraphql>; imageQueue: ImageWork },
  shop: string,
  runId: string,
): Promise<void> {
  const run = await deps.db.catalogRun.findFirst({ where: { id: runId, shop } });
  if (!run) return;
  if (run.status !== "COUNTING" && run.status !== "RUNNING") return;
  const installed = await deps.db.shop.findUnique({ where: { domain: shop }, select: { uninstalledAt: true, unavailableStatus: true } });
  if (!installed || installed.uninstalledAt) {
    // The uninstall cancelled the batch's waiting items (cancelShopWork); nothing more is added.
    await deps.db.catalogRun.updateMany({
      where: { id: runId, shop, status: { in: ["COUNTING", "RUNNING"] } },
      data: {
        status: "CANCELLED",
        reason: "Cancelled because the app was uninstalled.",
        reasonMessage: { code: "catalogCancelledUninstalled" } satisfies MerchantMessage,
        finishedAt: new Date(),
      },
    });
    return;
  }
  // Shopify refused the store before: asked once before reading the catalogue or reserving a chunk's credits.
  const outcome = await unlessShopRefused(
    deps.db,
    shop,
    () => deps.adminFor(shop),
    () => (run.status === "COUNTING" ? countCatalog(deps, run) : addNextChunk(deps, run)),
    installed.unavailableStatus,
  );
  if ("refused" in outcome) await pauseForStore(deps.db, run, outcome.refused);
}

/**
 * Shopify refuses the store: the run pauses (retrying would only meet the refusal for as long as the bill is unpaid).
 * Images already added fail fast in the worker, credits back; once the store opens, resuming adds them again.
 */
async function pauseForStore(db: PrismaClient, run: CatalogRun, status: ShopUnavailableStatus): Promise<void> {
  const reason = PAUSED_FOR_STORE[status];
  const paused = await db.catalogRun.updateMany({
    where: { id: run.id, shop: run.shop, status: { in: ["COUNTING", "RUNNING"] } },
    data: {
      status: "PAUSED",
      reason: reason.text,
      reasonMessage: reason.message,
      // Counted again from the start once the store opens: its bulk operation may have failed or expired meanwhile.
      ...(run.status === "COUNTING" ? { bulkOperationId: null } : {}),
    },
  });
  if (paused.count === 1 && run.batchId) {
    await db.batch.updateMany({ where: { id: run.batchId, shop: run.shop }, data: { note: reason.text, noteMessage: reason.message } });
  }
  logger.info({ shop: run.shop, runId: run.id, status }, "catalogue run paused: Shopify refuses the store");
}

async function countCatalog(deps: { db: PrismaClient; adminFor(shop: string): Promise<AdminGraphql> }, run: CatalogRun): Promise<void> {
  const graphql = await deps.adminFor(run.shop);
  const filter = filterOf(run.filter);
  if (!run.bulkOperationId) {
    const { data } = await runGraphql(graphql, RUN_BULK_QUERY, { query: catalogBulkQuery(filter) });
    const { bulkOperation, userErrors } = data.bulkOperationRunQuery ?? { bulkOperation: null, userErrors: [] };
    // Shopify runs one bulk query per shop and app at a time: wait for the other one.
    if (userErrors.some((e) => e.code === "OPERATION_IN_PROGRESS")) throw new RunAgainLater(5_000);
    if (userErrors.length || !bulkOperation) throw new ShopifyUserError("CatalogRunBulkQuery", userErrors);
    await deps.db.catalogRun.updateMany({
      where: { id: run.id, shop: run.shop, status: "COUNTING" },
      data: { bulkOperationId: bulkOperation.id },
    });
    throw new RunAgainLater(bulkPollMs());
  }
  const bulkOperationId = run.bulkOperationId;
  const { data } = await runGraphql(graphql, BULK_OPERATION, { id: bulkOperationId });
  const op = data.bulkOperation;
  if (op && (op.status === "CREATED" || op.status === "RUNNING" || op.status === "CANCELING")) throw new RunAgainLater(bulkPollMs());
  if (!op || op.status !== "COMPLETED") {
    const readFailure = op ? `${op.status.toLowerCase()}${op.errorCode ? `: ${op.errorCode.toLowerCase()}` : ""}` : "the operation is gone";
    await deps.db.catalogRun.updateMany({
      where: { id: run.id, shop: run.shop, status: "COUNTING" },
      data: {
        status: "FAILED",
        finishedAt: new Date(),
        reason: `Shopify could not read your catalogue (${readFailure}). Nothing was charged; start the run again.`,
        reasonMessage: { code: "catalogReadFailed", params: { detail: readFailure } } satisfies MerchantMessage,
      },
    });
    return;
  }
  let images = op.url ? await readBulkImages(op.url) : [];
  if (filter.onlyUnprocessed) images = await withoutProcessed(deps.db, run.shop, images);
  await deps.db.$transaction(
    async (tx) => {
      await tx.catalogRunImage.deleteMany({ where: { runId: run.id } });
      for (let i = 0; i < images.length; i += 5_000) {
        await tx.catalogRunImage.createMany({
          data: images.slice(i, i + 5_000).map((image, j) => ({
            runId: run.id,
            mediaId: image.mediaId,
            productId: image.productId,
            productTitle: image.productTitle,
            sourceUrl: image.url,
            sourceMimeType: image.mimeType,
            position: image.position,
            alt: image.alt,
            seq: i + j,
          })),
        });
      }
      await tx.catalogRun.updateMany({
        where: { id: run.id, shop: run.shop, status: "COUNTING" },
        data: { status: "READY", total: images.length },
      });
    },
    { timeout: 60_000 },
  );
  logger.info({ shop: run.shop, runId: run.id, images: images.length }, "catalogue run counted");
}

/** What bulk_operations/finish carries (Shopify writes its status, error code and type in lower case). */
export const bulkOperationFinishSchema = z.object({
  admin_graphql_api_id: z.string().startsWith("gid://shopify/BulkOperation/"),
  status: z.string(),
  type: z.string(),
  error_code: z.string().nullish(),
  created_at: z.string().nullish(),
  completed_at: z.string().nullish(),
});

export type BulkOperationFinish = z.infer<typeof bulkOperationFinishSchema>;

/**
 * bulk_operations/finish: the shop's counting run whose bulk operation ended is woken at once, so it reads the
 * result (or the failure) now rather than at its next poll. A run that has not yet stored its operation's id (the
 * operation ended before the job saved it) is woken as well: it reads the operation it started either way. Returns
 * how many runs were woken; waking one twice does nothing more.
 */
export async function acceptBulkOperationFinish(
  deps: { db: PrismaClient; queue: AutomationWork },
  shop: string,
  payload: BulkOperationFinish,
): Promise<number> {
  if (payload.type.toLowerCase() !== "query") return 0;
  const runs = await deps.db.catalogRun.findMany({
    where: { shop, status: "COUNTING", OR: [{ bulkOperationId: payload.admin_graphql_api_id }, { bulkOperationId: null }] },
    select: { id: true },
  });
  for (const run of runs) {
    // Not waiting out a delay: running now (the wake mark makes it look again), or gone from Redis (added again).
    if (!(await deps.queue.advanceCatalogRunNow(run.id))) await deps.queue.enqueueCatalogRun(shop, run.id);
  }
  logger.info(
    { shop, bulkOperationId: payload.admin_graphql_api_id, status: payload.status, runs: runs.length },
    "bulk operation finished",
  );
  return runs.length;
}

/** The JSONL lines of a bulk result: products, then media lines naming their product (`__parentId`), in any order. */
async function readBulkImages(url: string): Promise<ProductImage[]> {
  const policy = fetchPolicyFromEnv({ overrides: { allowedHosts: [...BULK_RESULT_HOSTS, ...getConfig().SAFE_FETCH_LOCAL_HOSTS] } });
  const check = checkUrlAllowed(url, policy);
  if (!check.ok) throw new Error(`The bulk operation's result is at a URL this app does not fetch from: ${check.message}`);
  const response = await fetch(check.url, { redirect: "error" });
  if (!response.ok || !response.body) throw new Error(`Downloading the bulk operation's result answered HTTP ${response.status}.`);
  const products = new Map<string, { title: string; handle: string }>();
  const media: Array<{ parent: string; line: Record<string, unknown> }> = [];
  const lines = createInterface({ input: Readable.fromWeb(response.body as unknown as NodeReadableStream), crlfDelay: Infinity });
  for await (const text of lines) {
    if (!text.trim()) continue;
    const line = JSON.parse(text) as Record<string, unknown>;
    if (typeof line.__parentId === "string") media.push({ parent: line.__parentId, line });
    else if (typeof line.id === "string") products.set(line.id, { title: String(line.title ?? ""), handle: String(line.handle ?? "") });
  }
  const positions = new Map<string, number>();
  const images: ProductImage[] = [];
  for (const { parent, line } of media) {
    // Positions count every media of the product (videos too), in the order Shopify lists them.
    const position = (positions.get(parent) ?? 0) + 1;
    positions.set(parent, position);
    const product = products.get(parent);
    const image = line.image as { url?: string } | null | undefined;
    if (!product || typeof line.id !== "string" || !line.id.includes("/MediaImage/") || !image?.url || line.status === "FAILED") continue;
    images.push({
      productId: parent,
      productTitle: product.title,
      productHandle: product.handle,
      mediaId: line.id,
      url: image.url,
      alt: typeof line.alt === "string" ? line.alt : null,
      width: null,
      height: null,
      mimeType: typeof line.mimeType === "string" ? line.mimeType : null,
      position,
      status: String(line.status ?? "READY"),
    });
  }
  return images;
}

async function withoutProcessed(db: PrismaClient, shop: string, images: ProductImage[]): Promise<ProductImage[]> {
  const known = new Set<string>();
  for (let i = 0; i < images.length; i += 5_000) {
    const ids = images.slice(i, i + 5_000).map((image) => image.mediaId);
    const [items, backups] = await Promise.all([
      db.batchItem.findMany({ where: { shop, mediaId: { in: ids } }, select: { mediaId: true }, distinct: ["mediaId"] }),
      db.imageBackup.findMany({ where: { shop, mediaId: { in: ids } }, select: { mediaId: true } }),
    ]);
    for (const row of [...items, ...backups]) known.add(row.mediaId);
  }
  return images.filter((image) => !known.has(image.mediaId));
}

/** Credits the run's items hold or spent (given-back credits do not count against its budget). */
async function runCredits(
  db: Pick<PrismaClient, "$queryRaw">,
  shop: string,
  batchId: string | null,
): Promise<{ held: number; used: number }> {
  if (!batchId) return { held: 0, used: 0 };
  const rows = await db.$queryRaw<Array<{ state: string; amount: number }>>`
    SELECT r.state::text AS state, COALESCE(SUM(r.amount), 0)::int AS amount
    FROM "CreditReservation" r JOIN "BatchItem" i ON i.id = r."batchItemId"
    WHERE i."batchId" = ${batchId} AND i.shop = ${shop} AND r.state IN ('HELD', 'CAPTURED')
    GROUP BY r.state`;
  return { held: rows.find((r) => r.state === "HELD")?.amount ?? 0, used: rows.find((r) => r.state === "CAPTURED")?.amount ?? 0 };
}

function pauseReason(
  shortOf: FundingLimit,
  run: CatalogRun,
  remaining: number,
  balanceEmpty: boolean,
  dailyCap: number | null,
): { text: string; message: MerchantMessage } {
  const rest = `${remaining.toLocaleString("en-US")} image${remaining === 1 ? "" : "s"} of ${run.total.toLocaleString("en-US")} ${remaining === 1 ? "is" : "are"} waiting`;
  const counts = { count: remaining, total: run.total };
  if (shortOf === "balance") {
    return {
      text: `Paused: your credit balance ran out, and ${rest}. Buy credits on the Credits page, then resume the run.`,
      message: { code: "catalogPausedBalance", params: counts },
    };
  }
  if (shortOf === "dailyCap") {
    return {
      text: `Paused: today's spending limit of ${dailyCap} credits is reached, and ${rest}. Resume the run tomorrow, or raise the limit in Settings and resume it now.`,
      message: { code: "catalogPausedDailyCap", params: { ...counts, cap: dailyCap ?? 0 } },
    };
  }
  return balanceEmpty
    ? {
        text: `Paused: this run's budget of ${run.budget} credits is used up and your balance is empty, and ${rest}. Buy credits on the Credits page, raise the budget and resume to clean them.`,
        message: { code: "catalogPausedBudgetAndBalance", params: { ...counts, budget: run.budget ?? 0 } },
      }
    : {
        text: `Paused: this run's budget of ${run.budget} credits is used up, and ${rest}. Raise the budget and resume to clean them.`,
        message: { code: "catalogPausedBudget", params: { ...counts, budget: run.budget ?? 0 } },
      };
}

async function addNextChunk(deps: { db: PrismaClient; imageQueue: ImageWork }, run: CatalogRun): Promise<void> {
  const { db } = deps;
  const shop = run.shop;
  const waiting = run.batchId
    ? await db.batchItem.count({ where: { shop, batchId: run.batchId, state: { in: [...IN_FLIGHT_ITEM_STATES] } } })
    : 0;
  if (waiting >= CATALOG_CHUNK) throw new RunAgainLater(tickMs());
  let next = await db.catalogRunImage.findMany({
    where: { runId: run.id, itemId: null, skipped: false },
    orderBy: { seq: "asc" },
    take: CATALOG_CHUNK,
  });
  let retry: FundedItemsInput["retry"];
  if (next.length === 0) {
    if (waiting > 0) throw new RunAgainLater(tickMs());
    // The images that failed because Shopify refused the store (the store has answered since, or this job would have
    // paused) were never processed: they are added again, each as a new try of its failed item.
    const refused = await runStoreRefusedImages(db, run, CATALOG_CHUNK);
    next = refused.images;
    if (next.length > 0) retry = storeRefusedRetry(refused.retryOf);
  }
  if (next.length === 0) {
    await db.catalogRun.updateMany({ where: { id: run.id, shop, status: "RUNNING" }, data: { status: "DONE", finishedAt: new Date() } });
    logger.info({ shop, runId: run.id }, "catalogue run finished");
    return;
  }
  const filter = filterOf(run.filter);
  const batchId = run.batchId ?? run.id;
  const pipeline: PipelineId = isPipelineId(run.pipeline) ? run.pipeline : "amazon";
  const shopSettings = await getSettings(db, shop);
  const images: ProductImage[] = next.map((row) => ({
    productId: row.productId,
    productTitle: row.productTitle,
    productHandle: "",
    mediaId: row.mediaId,
    url: row.sourceUrl,
    alt: row.alt,
    width: null,
    height: null,
    mimeType: row.sourceMimeType,
    position: row.position,
    status: "READY",
  }));
  const funded = await addFundedItems(db, deps.imageQueue.name, shop, {
    batch: {
      id: batchId,
      origin: "CATALOG",
      pipeline,
      settings: pipelineSettingsFrom(shopSettings),
      reviewBeforePublish: shopSettings.reviewBeforePublish,
    },
    images,
    budget:
      run.budget === null
        ? null
        : {
            limit: run.budget,
            spent: async (tx) => {
              const { held, used } = await runCredits(tx, shop, run.batchId);
              return held + used;
            },
          },
    // An image tried again was matched as unprocessed when counted; its own failed item does not make it processed.
    onlyNeverProcessed: retry ? false : filter.onlyUnprocessed,
    retry,
    onWritten: async (tx, written) => {
      // The images' items and their "added" marks commit together: a killed worker never adds an image twice.
      for (const item of written.items)
        await tx.catalogRunImage.update({ where: { runId_mediaId: { runId: run.id, mediaId: item.mediaId } }, data: { itemId: item.id } });
      if (written.skippedMediaIds.length) {
        // Not those a concurrent run of this job (a stalled lock) has just added.
        await tx.catalogRunImage.updateMany({
          where: {
            runId: run.id,
            mediaId: { in: written.skippedMediaIds },
            itemId: retry ? { in: next.map((row) => row.itemId ?? "") } : null,
          },
          data: { skipped: true, itemId: null },
        });
      }
      if (!run.batchId) await tx.catalogRun.update({ where: { id: run.id }, data: { batchId } });
    },
  });
  if (funded.items.length > 0) {
    await deps.imageQueue
      .enqueueItems(funded.items)
      .catch((error: Error) =>
        logger.warn({ shop, runId: run.id, err: error.message }, "enqueue failed; the sweep will enqueue these items"),
      );
  }
  if (funded.shortOf) {
    const remaining =
      (await db.catalogRunImage.count({ where: { runId: run.id, itemId: null, skipped: false } })) +
      (await runStoreRefusedImages(db, { ...run, batchId })).images.length;
    const reason = pauseReason(funded.shortOf, run, remaining, funded.availableAfter < CREDITS_PER_IMAGE, shopSettings.dailySpendCap);
    await db.catalogRun.updateMany({
      where: { id: run.id, shop, status: "RUNNING" },
      data: { status: "PAUSED", reason: reason.text, reasonMessage: reason.message },
    });
    await db.batch.updateMany({ where: { id: batchId, shop }, data: { note: reason.text, noteMessage: reason.message } });
    logger.info({ shop, runId: run.id, shortOf: funded.shortOf, remaining }, "catalogue run paused");
    return;
  }
  throw new RunAgainLater(tickMs());
}

/** The run's images it adds again (see store-refused-tries.server.ts), with their first items. */
async function runStoreRefusedImages(
  db: PrismaClient,
  run: Pick<CatalogRun, "id" | "shop" | "batchId">,
  take?: number,
): Promise<{ images: CatalogRunImage[]; retryOf: Map<string, string> }> {
  if (!run.batchId) return { images: [], retryOf: new Map() };
  const { rootOf, again } = await storeRefusedImages(db, run.shop, { batchId: run.batchId });
  if (again.length === 0) return { images: [], retryOf: new Map() };
  const images = await db.catalogRunImage.findMany({
    // The run's mark names the item it added last for the image, whichever try that was.
    where: { runId: run.id, skipped: false, itemId: { in: again.flatMap((image) => image.versions.map((item) => item.id)) } },
    orderBy: { seq: "asc" },
    take,
  });
  return { images, retryOf: new Map(images.map((image) => [image.mediaId, rootOf.get(image.itemId!)!])) };
}

/**
 * How many of the run's images are in each state, each by its current version (groupVersions): a try the merchant or
 * the run made after the store refused it, or its first. Images never tried again are counted in the database.
 */
async function runImageStates(db: PrismaClient, run: CatalogRun): Promise<Array<{ state: string; count: number }>> {
  const [single, tried] = await Promise.all([
    db.$queryRaw<Array<{ state: string; count: number }>>`
      SELECT i.state::text AS state, COUNT(*)::int AS count
      FROM "CatalogRunImage" ri JOIN "BatchItem" i ON i.id = ri."itemId"
      WHERE ri."runId" = ${run.id} AND i.shop = ${run.shop} AND i."retryOfId" IS NULL
        AND NOT EXISTS (SELECT 1 FROM "BatchItem" t WHERE t."retryOfId" = i.id)
      GROUP BY i.state`,
    db.$queryRaw<Array<Pick<BatchItem, "id" | "retryOfId" | "state" | "createdAt" | "resultImageId">>>`
      SELECT v.id, v."retryOfId", v.state::text AS state, v."createdAt", v."resultImageId"
      FROM "CatalogRunImage" ri
      JOIN "BatchItem" i ON i.id = ri."itemId"
      JOIN "BatchItem" v ON v.shop = i.shop AND (v.id = COALESCE(i."retryOfId", i.id) OR v."retryOfId" = COALESCE(i."retryOfId", i.id))
      WHERE ri."runId" = ${run.id} AND i.shop = ${run.shop}
        AND (i."retryOfId" IS NOT NULL OR EXISTS (SELECT 1 FROM "BatchItem" t WHERE t."retryOfId" = i.id))`,
  ]);
  const counts = new Map(single.map((row) => [row.state, row.count]));
  for (const group of groupVersions(tried)) counts.set(group.current.state, (counts.get(group.current.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => ({ state, count }));
}

/** A run as the merchant sees it: count and cost, progress, credits and ETA under the fair share. */
export async function getCatalogRun(db: PrismaClient, shop: string, runId: string): Promise<CatalogRunView | null> {
  const run = await db.catalogRun.findFirst({ where: { id: runId, shop } });
  return run ? viewOf(db, run) : null;
}

export async function listCatalogRuns(db: PrismaClient, shop: string, take = 10): Promise<CatalogRunView[]> {
  const runs = await db.catalogRun.findMany({ where: { shop }, orderBy: { createdAt: "desc" }, take });
  return Promise.all(runs.map((run) => viewOf(db, run)));
}

async function viewOf(db: PrismaClient, run: CatalogRun): Promise<CatalogRunView> {
  const [states, skipped, credits] = await Promise.all([
    runImageStates(db, run),
    db.catalogRunImage.count({ where: { runId: run.id, skipped: true } }),
    runCredits(db, run.shop, run.batchId),
  ]);
  const count = (names: readonly string[]) => states.filter((s) => names.includes(s.state)).reduce((sum, s) => sum + s.count, 0);
  const added = count(ITEM_STATES);
  const waiting = count(IN_FLIGHT_ITEM_STATES);
  const done = added - waiting;
  let etaSeconds: number | null = null;
  if (run.status === "RUNNING") {
    // Images not yet added will be, a chunk at a time: they count as this shop's remaining work.
    const load = await getQueueLoad(db);
    const notAdded = Math.max(0, run.total - added - skipped);
    load.remainingByShop.set(run.shop, (load.remainingByShop.get(run.shop) ?? 0) + notAdded);
    etaSeconds = fairShareEtaSeconds(run.shop, load);
  }
  return {
    id: run.id,
    status: run.status,
    filter: filterOf(run.filter),
    pipeline: run.pipeline,
    budget: run.budget,
    reason: run.reason,
    reasonMessage: storedMessage(run.reasonMessage),
    batchId: run.batchId,
    createdAt: run.createdAt,
    total: run.total,
    cost: run.total * CREDITS_PER_IMAGE,
    added,
    waiting,
    done,
    published: count(["PUBLISHED"]),
    needsReview: count(["NEEDS_REVIEW"]),
    failed: count(["FAILED"]),
    skipped,
    creditsUsed: credits.used,
    creditsHeld: credits.held,
    etaSeconds,
  };
}

/** A run whose job gave up (its last attempt failed, or the shop's access was lost): FAILED. Images it already added finish. */
export async function failCatalogRun(db: PrismaClient, shop: string, runId: string, error: Error): Promise<void> {
  logger.error({ shop, runId, err: error.message }, "catalogue run failed");
  await db.catalogRun.updateMany({
    where: { id: runId, shop, status: { in: ["COUNTING", "RUNNING"] } },
    data: {
      status: "FAILED",
      finishedAt: new Date(),
      reason:
        "This run stopped on an error it could not get past. Images it already added are still cleaned and stay restorable; start a new run for the rest.",
      reasonMessage: { code: "catalogRunFailed" } satisfies MerchantMessage,
    },
  });
}

/**
 * Runs counting or running whose job is gone (Redis lost it): enqueue them again (idempotent by job id). Runs paused
 * because Shopify refused the store go on once a job of the shop found it answering again (the mark is cleared).
 */
export async function resumeCatalogRuns(db: PrismaClient, automationQueue: AutomationWork): Promise<number> {
  const ofQueue = { filter: { path: ["queue"], equals: automationQueue.name } } satisfies Prisma.CatalogRunWhereInput;
  const waitingForStore = await db.catalogRun.findMany({
    where: { status: "PAUSED", ...ofQueue, ...storePauseFilter },
    select: { id: true, shop: true },
    take: 500,
  });
  const open = new Set(
    (
      await db.shop.findMany({
        where: { domain: { in: [...new Set(waitingForStore.map((run) => run.shop))] }, unavailableAt: null, uninstalledAt: null },
        select: { domain: true },
      })
    ).map((shop) => shop.domain),
  );
  for (const run of waitingForStore) {
    if (open.has(run.shop)) await confirmCatalogRun({ db, automationQueue }, run.shop, run.id);
  }
  const runs = await db.catalogRun.findMany({
    where: { status: { in: ["COUNTING", "RUNNING"] }, ...ofQueue },
    select: { id: true, shop: true },
    take: 500,
  });
  for (const run of runs) await automationQueue.enqueueCatalogRun(run.shop, run.id);
  return runs.length;
}
