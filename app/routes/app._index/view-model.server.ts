/**
 * The Images page's data: the loader's answer (one page of the catalogue's images with their latest status, the
 * balance, the price and the pipelines) and the action's reading of a submitted selection.
 */
import { json } from "@remix-run/node";
import { z } from "zod";
import { IMAGE_FILTERS, badgeStatusFor, productSearchQuery } from "~/components/images/grid-model";
import type { GridImage } from "~/components/images/ImageGrid";
import db from "~/db.server";
import { PIPELINE_IDS, getPipeline, isPipelineId } from "~/imaging/pipelines";
import { ShopifyApiError, ShopifyThrottledError, withThrottleRetry, type AdminGraphql } from "~/lib/admin-graphql.server";
import { errorResponse } from "~/lib/error-response.server";
import { logger } from "~/lib/logger.server";
import { errorPayload } from "~/lib/merchant-message";
import { BatchInputError, createBatch, imageStatuses } from "~/models/batches.server";
import { listProductImages } from "~/models/catalog.server";
import { CREDITS_PER_IMAGE, InsufficientCreditsError, getBalance } from "~/models/credit-ledger.server";
import { getSettings } from "~/models/settings.server";
import { getQueue } from "~/queue/queue.server";

/** 50 products x 8 images keeps the one listing query under Shopify's 1,000-point single-query limit. */
export const PRODUCTS_PER_PAGE = 50;
export const IMAGES_PER_PRODUCT = 8;
const MAX_THROTTLE_WAIT_MS = 6000;

/** Why the listing failed: Shopify throttled this store, or did not answer. */
export type LoadError = "throttled" | "shopify";

const searchSchema = z.object({
  q: z.string().trim().max(200).optional().default(""),
  status: z.enum(IMAGE_FILTERS).catch("all"),
  after: z.string().max(500).optional(),
  ids: z.string().max(5000).optional(),
});

export async function imagesPageData(graphql: AdminGraphql, shop: string, url: URL) {
  const params = searchSchema.parse(Object.fromEntries(url.searchParams));
  const productIds = params.ids ? params.ids.split(",").filter(Boolean).slice(0, 50) : [];

  const [balance, settings] = await Promise.all([getBalance(db, shop), getSettings(db, shop)]);
  const pipelines = PIPELINE_IDS.map((id) => {
    const p = getPipeline(id);
    return { id: p.id as string, label: p.label, summary: p.summary, rules: p.rules };
  });
  const base = {
    filters: { q: params.q, status: params.status, productIds },
    balance: { available: balance.available },
    creditsPerImage: CREDITS_PER_IMAGE,
    defaultPipeline: settings.defaultPipeline as string,
    pipelines,
  };

  const listPage = () =>
    listProductImages(graphql, {
      first: PRODUCTS_PER_PAGE,
      after: params.after || null,
      query: productSearchQuery(params.q, productIds),
      imagesPerProduct: IMAGES_PER_PRODUCT,
    });
  let page: Awaited<ReturnType<typeof listProductImages>>;
  try {
    // Paging quickly or several pages open at once can empty the store's API bucket; a few seconds' wait beats an
    // error page.
    page = await withThrottleRetry(listPage, { maxTotalWaitMs: MAX_THROTTLE_WAIT_MS });
  } catch (error) {
    if (error instanceof ShopifyThrottledError || error instanceof ShopifyApiError) {
      logger.warn({ shop, err: error.message }, "image listing failed");
      const loadError: LoadError = error instanceof ShopifyThrottledError ? "throttled" : "shopify";
      return {
        ...base,
        images: [] as GridImage[],
        pageInfo: { hasNextPage: false, endCursor: null as string | null },
        storeHasImages: true,
        loadError,
      };
    }
    throw error;
  }

  const statuses = await imageStatuses(
    db,
    shop,
    page.images.map((i) => i.mediaId),
  );
  const all: GridImage[] = page.images.map((image) => {
    const latest = statuses.get(image.mediaId);
    const status = badgeStatusFor(latest?.state);
    return {
      mediaId: image.mediaId,
      productId: image.productId,
      productTitle: image.productTitle,
      url: image.url,
      alt: image.alt,
      position: image.position,
      status,
      pipeline: status === "processed" && latest ? latest.pipeline : null,
    };
  });
  const images = params.status === "all" ? all : all.filter((i) => i.status === params.status);
  const filtered = Boolean(params.q) || productIds.length > 0 || Boolean(params.after);
  return {
    ...base,
    images,
    pageInfo: page.pageInfo,
    storeHasImages: filtered || all.length > 0,
    loadError: null as LoadError | null,
  };
}

export type ImagesPageData = Awaited<ReturnType<typeof imagesPageData>>;

const SELECTION_UNREADABLE = "The selection could not be read. Reload and select again.";

/** A form field holding a JSON array of gids of one type, at most `max` of them. */
function gidList(type: string, max: number) {
  return z.string().transform((raw, ctx) => {
    try {
      return z
        .array(z.string().startsWith(`gid://shopify/${type}/`).max(100))
        .max(max)
        .parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: SELECTION_UNREADABLE });
      return z.NEVER;
    }
  });
}

const submitSchema = z.object({
  pipeline: z.string(),
  mediaIds: gidList("MediaImage", 1000),
  // The products of the selected images: a lookup hint (each image is still checked against Shopify).
  productIds: gidList("Product", 1000).optional(),
});

/**
 * Starts a batch from the page's submitted form (`raw`, null when it was over the size cap): the new batch's id, or
 * the refusal to answer with.
 */
export async function startBatchFromSelection(
  graphql: AdminGraphql,
  shop: string,
  raw: string | null,
): Promise<{ batchId: string } | Response> {
  if (raw === null) {
    return json(
      errorPayload("The selection is too large to send at once. Select fewer images and try again.", { code: "selectionTooLarge" }),
      { status: 413 },
    );
  }
  const parsed = submitSchema.safeParse(Object.fromEntries(new URLSearchParams(raw)));
  if (!parsed.success) return json(errorPayload(SELECTION_UNREADABLE, { code: "selectionUnreadable" }), { status: 400 });
  const { pipeline, mediaIds, productIds } = parsed.data;
  if (!isPipelineId(pipeline))
    return json(errorPayload("Choose a pipeline: Amazon, eBay or Instagram.", { code: "choosePipeline" }), { status: 400 });
  try {
    const created = await createBatch({ db, graphql, queue: getQueue() }, shop, { mediaIds, productIds, pipeline });
    return { batchId: created.batchId };
  } catch (error) {
    if (error instanceof BatchInputError || error instanceof InsufficientCreditsError) return errorResponse(error);
    throw error;
  }
}
