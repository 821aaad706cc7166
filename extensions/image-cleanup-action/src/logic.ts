// The admin action's logic, kept apart from its UI so it can be tested with a stand-in for the
// extension API: count the selected products' images through the Direct API (`query`), price them at the
// app's price (read from `api/batches`), and start a batch there with the extension's session token.

// Types only (erased from the extension's bundle): the app's codegen types this extension's document too.
import type { ExtensionSelectedProductImagesQuery } from "../../../app/types/admin.generated";

/** The app processes at most this many images of one product (as the app's catalogue does). */
export const MAX_IMAGES_PER_PRODUCT = 50;
const PRODUCTS_PER_QUERY = 10;

export type PipelineId = "amazon" | "ebay" | "instagram";

/** The app's pipelines (a unit test keeps the ids in sync); their names and descriptions are in locales/. */
export const PIPELINE_CHOICES: ReadonlyArray<{ id: PipelineId }> = [{ id: "amazon" }, { id: "ebay" }, { id: "instagram" }];

/**
 * Shopify's `i18n.translate`: the extension's strings (locales/en.default.json, es.json…) in the admin's language,
 * `{{name}}` replaced, `count` picking a plural form.
 */
export type Translate = (key: string, options?: Record<string, string | number>) => string;

/** Refusals of the app's `api/batches` the extension says in the admin's language (locales/*.json `serverErrors`). */
export const SERVER_ERROR_CODES = [
  "insufficientCredits",
  "dailySpendCap",
  "creditsOwed",
  "noSelection",
  "tooManyProductImages",
  "noneFound",
  "allAlreadyInBatch",
  "rateLimited",
] as const;

/** The slice of the admin action extension API this logic uses (`shopify` in the extension). */
export interface ActionApi {
  i18n: { translate: Translate };
  data: { selected: ReadonlyArray<{ id: string }> };
  auth: { idToken: () => Promise<string | null> };
  query: <Data = unknown>(
    query: string,
    options?: { variables?: Record<string, unknown> },
  ) => Promise<{ data?: Data; errors?: ReadonlyArray<{ message: string }> }>;
}

export interface SelectionSummary {
  productIds: string[];
  products: number;
  images: number;
  /** Products whose images could not be read (deleted, or not products). */
  missing: number;
}

export class ExtensionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExtensionError";
  }
}

const SELECTED_PRODUCT_IMAGES = `#graphql
  query ExtensionSelectedProductImages($ids: [ID!]!, $mediaFirst: Int!) {
    nodes(ids: $ids) {
      ... on Product {
        id
        media(first: $mediaFirst) {
          nodes {
            mediaContentType
          }
        }
      }
    }
  }
`;

export function selectedProductIds(api: Pick<ActionApi, "data">): string[] {
  return [...new Set(api.data.selected.map((s) => s.id).filter((id) => id.startsWith("gid://shopify/Product/")))];
}

/** Counts the images of the selected products (videos and 3D models are not images). */
export async function summariseSelection(api: ActionApi): Promise<SelectionSummary> {
  const productIds = selectedProductIds(api);
  let images = 0;
  let found = 0;
  for (let i = 0; i < productIds.length; i += PRODUCTS_PER_QUERY) {
    const ids = productIds.slice(i, i + PRODUCTS_PER_QUERY);
    const result = await api.query<ExtensionSelectedProductImagesQuery>(SELECTED_PRODUCT_IMAGES, {
      variables: { ids, mediaFirst: MAX_IMAGES_PER_PRODUCT },
    });
    if (result.errors?.length || !result.data) {
      throw new ExtensionError(api.i18n.translate("errors.readFailed", { detail: result.errors?.[0]?.message ?? "no data" }));
    }
    for (const node of result.data.nodes) {
      if (!node?.id || !node.media) continue;
      found += 1;
      images += node.media.nodes.filter((m) => m.mediaContentType === "IMAGE").length;
    }
  }
  return { productIds, products: productIds.length, images, missing: productIds.length - found };
}

/** "12 images x 3 credits = 36 credits" */
export function costLine(translate: Translate, images: number, creditsPerImage: number): string {
  return translate("costLine", { count: images, creditsPerImage, credits: images * creditsPerImage });
}

/** "3 products selected with 7 images." / "The selected 2 products have no images to clean up." */
export function selectionLine(translate: Translate, summary: SelectionSummary): string {
  if (summary.images === 0) return translate("noImages", { count: summary.products });
  return translate("selected", { count: summary.products, images: translate("imageCount", { count: summary.images }) });
}

export interface BatchCreated {
  batchId: string;
  queued: number;
  skipped: number;
  creditsReserved: number;
}

export interface SubmitOptions {
  /** The app's origin; "" lets admin resolve a relative URL against the app's URL. */
  appUrl?: string;
  fetch?: typeof fetch;
}

/** The app's answer to one call: its status and JSON body (null when the body is not JSON). */
async function callApp(
  api: Pick<ActionApi, "auth" | "i18n">,
  init: { method: "GET" } | { method: "POST"; body: string },
  options: SubmitOptions,
): Promise<{ response: Response; body: unknown }> {
  const { translate } = api.i18n;
  const token = await api.auth.idToken();
  if (!token) throw new ExtensionError(translate("errors.sessionExpired"));
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (init.method === "POST") headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await doFetch(`${options.appUrl ?? ""}/api/batches`, { ...init, headers });
  } catch {
    throw new ExtensionError(translate("errors.unreachable"));
  }
  return { response, body: await response.json().catch(() => null) };
}

/** The app's price per image: its configuration decides it, so this bundle never carries a copy. */
export async function fetchPricing(
  api: Pick<ActionApi, "auth" | "i18n">,
  options: SubmitOptions = {},
): Promise<{ creditsPerImage: number }> {
  const { response, body } = await callApp(api, { method: "GET" }, options);
  const creditsPerImage = (body as { creditsPerImage?: unknown } | null)?.creditsPerImage;
  if (!response.ok || typeof creditsPerImage !== "number" || !Number.isInteger(creditsPerImage) || creditsPerImage <= 0) {
    throw new ExtensionError(api.i18n.translate("errors.priceFailed"));
  }
  return { creditsPerImage };
}

/**
 * Starts a batch for the selected products. The app reads the products' images itself; we send only
 * ids. Throws ExtensionError with the app's own message (e.g. not enough credits) when it refuses.
 */
export async function submitBatch(
  api: Pick<ActionApi, "auth" | "i18n">,
  input: { productIds: string[]; pipeline: PipelineId },
  options: SubmitOptions = {},
): Promise<BatchCreated> {
  const { translate } = api.i18n;
  if (input.productIds.length === 0) throw new ExtensionError(translate("errors.selectProduct"));
  if (!PIPELINE_CHOICES.some((p) => p.id === input.pipeline)) throw new ExtensionError(translate("errors.choosePipeline"));
  const answer = await callApp(
    api,
    { method: "POST", body: JSON.stringify({ productIds: input.productIds, pipeline: input.pipeline }) },
    options,
  );
  const response = answer.response;
  const body = answer.body as
    | (Partial<Omit<BatchCreated, "skipped">> & {
        skipped?: number | unknown[];
        error?: string;
        message?: string;
        errorCode?: string;
        errorParams?: Record<string, string | number>;
      })
    | null;
  if (!response.ok || !body?.batchId) {
    const code = SERVER_ERROR_CODES.find((c) => c === body?.errorCode);
    // The app's own sentence (English) when it sends a refusal this extension has no words for.
    if (code) throw new ExtensionError(translate(`serverErrors.${code}`, body?.errorParams ?? {}));
    throw new ExtensionError(body?.error ?? body?.message ?? translate("errors.httpFailed", { status: response.status }));
  }
  return {
    batchId: body.batchId,
    queued: body.queued ?? 0,
    // The app lists the skipped images (with reasons); the extension only shows how many.
    skipped: Array.isArray(body.skipped) ? body.skipped.length : (body.skipped ?? 0),
    creditsReserved: body.creditsReserved ?? 0,
  };
}

/** Where the app shows a batch: `app:` links open a page of the embedded app from admin. */
export function batchPageHref(batchId: string): string {
  return `app:app/batches/${encodeURIComponent(batchId)}`;
}

export function startedMessage(translate: Translate, created: BatchCreated): string {
  const started = translate("started", { count: created.queued, credits: created.creditsReserved });
  return created.skipped > 0 ? `${started} ${translate("skipped", { skipped: created.skipped })}` : started;
}
