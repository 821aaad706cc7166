/**
 * The store's catalogue through the Admin GraphQL API: list products and their images, back up an
 * original into Shopify Files, upload a processed image (staged upload), replace a MediaImage in place
 * (fileUpdate keeps its id, position, alt text and variant links) and wait for Shopify to process it.
 * The Admin client is passed in (`admin.graphql` from shopify-app-remix, or the worker's offline client).
 */
import { AppError } from "~/lib/app-error";
import type { MerchantMessage } from "~/lib/merchant-message";
import { logger } from "~/lib/logger.server";

export type AdminGraphql = (query: string, options?: { variables?: Record<string, unknown> }) => Promise<Response>;

export interface ProductImage {
  productId: string;
  productTitle: string;
  productHandle: string;
  mediaId: string;
  url: string;
  alt: string | null;
  width: number | null;
  height: number | null;
  mimeType: string | null;
  position: number;
  status: string;
}

export interface QueryCost {
  requested: number;
  actual: number | null;
}

/** Shopify answered THROTTLED: wait `retryAfterMs` (what the bucket needs to refill) and try again. */
export class ShopifyThrottledError extends AppError {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`Shopify is rate limiting this store's API calls; retrying in ${Math.ceil(retryAfterMs / 1000)} s.`, {
      merchantMessage: "Shopify is busy with this store's requests. Try again in a few seconds.",
      merchant: { code: "shopifyBusy" },
      httpStatus: 503,
      retryable: true,
    });
    this.name = "ShopifyThrottledError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** What a merchant reads when Shopify refused or failed a change they asked for. */
const refusedChange = (message: string) => `Shopify refused the change: ${message}. Nothing was changed; try again.`;
const refusedChangeMessage = (message: string): MerchantMessage => ({ code: "shopifyRefused", params: { detail: message } });

/** A mutation returned userErrors: it did nothing. */
export class ShopifyUserError extends AppError {
  readonly userErrors: Array<{ field?: string[] | null; message: string; code?: string | null }>;
  constructor(operation: string, userErrors: Array<{ field?: string[] | null; message: string; code?: string | null }>) {
    const message = `Shopify refused ${operation}: ${userErrors.map((e) => e.message).join("; ")}`;
    super(message, { merchantMessage: refusedChange(message), merchant: refusedChangeMessage(message), httpStatus: 502 });
    this.name = "ShopifyUserError";
    this.userErrors = userErrors;
  }
}

/** Any other GraphQL-level or HTTP-level failure. `shopifyStatus` is the HTTP status Shopify answered, when known. */
export class ShopifyApiError extends AppError {
  readonly shopifyStatus: number | null;
  readonly codes: string[];
  constructor(message: string, shopifyStatus: number | null, codes: string[] = []) {
    super(message, { merchantMessage: refusedChange(message), merchant: refusedChangeMessage(message), httpStatus: 502, retryable: !isTerminal(shopifyStatus, codes) });
    this.name = "ShopifyApiError";
    this.shopifyStatus = shopifyStatus;
    this.codes = codes;
  }
  /** 401/402/403/404/423 and access errors will not get better by retrying. */
  get terminal(): boolean {
    return !this.retryable;
  }
}

function isTerminal(shopifyStatus: number | null, codes: readonly string[]): boolean {
  if (shopifyStatus !== null && [401, 402, 403, 404, 423].includes(shopifyStatus)) return true;
  return codes.some((c) => c === "ACCESS_DENIED" || c === "NOT_FOUND" || c === "UNAUTHORIZED");
}

/** Shopify could not process a replaced file (fileStatus FAILED). The message is readable by a merchant. */
export class ShopifyFileFailedError extends AppError {
  constructor(reason: string) {
    super(reason, { httpStatus: 502 });
    this.name = "ShopifyFileFailedError";
  }
}

interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}
interface CostExtension {
  requestedQueryCost?: number;
  actualQueryCost?: number | null;
  throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number };
}
interface GraphqlBody<T> {
  data?: T;
  errors?: GraphqlError[] | { graphQLErrors?: GraphqlError[]; message?: string; networkStatusCode?: number };
  extensions?: { cost?: CostExtension };
}

/** Time the leaky bucket needs to hold `requested` points again: (requested - available) / restoreRate. */
export function throttleDelayMs(cost: CostExtension | undefined, fallbackMs = 1000): number {
  const requested = cost?.requestedQueryCost;
  const available = cost?.throttleStatus?.currentlyAvailable;
  const restoreRate = cost?.throttleStatus?.restoreRate;
  if (requested === undefined || available === undefined || !restoreRate) return fallbackMs;
  return Math.max(50, Math.ceil((Math.max(0, requested - available) / restoreRate) * 1000));
}

function graphqlErrorsOf(body: GraphqlBody<unknown>): GraphqlError[] {
  if (!body.errors) return [];
  if (Array.isArray(body.errors)) return body.errors;
  if (body.errors.graphQLErrors?.length) return body.errors.graphQLErrors;
  return [{ message: body.errors.message ?? "GraphQL request failed" }];
}

function failFromBody(operation: string, body: GraphqlBody<unknown>, status: number | null): never {
  const errors = graphqlErrorsOf(body);
  const codes = errors.map((e) => e.extensions?.code ?? "").filter(Boolean);
  if (codes.includes("THROTTLED")) throw new ShopifyThrottledError(throttleDelayMs(body.extensions?.cost));
  const networkStatus = !Array.isArray(body.errors) ? body.errors?.networkStatusCode : undefined;
  throw new ShopifyApiError(
    `Shopify ${operation} failed: ${errors.map((e) => e.message).join("; ")}`,
    status ?? networkStatus ?? null,
    codes,
  );
}

/**
 * Runs one named operation and returns its data and cost. Accepts both shapes the Admin client can
 * produce: a Response with `errors` in the JSON, or a thrown GraphqlQueryError / Response (shopify-api
 * throws on GraphQL errors, shopify-app-remix rethrows HTTP errors as a Response).
 */
export async function runGraphql<T>(
  graphql: AdminGraphql,
  operation: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data: T; cost: QueryCost }> {
  let response: Response;
  try {
    response = await graphql(query, variables ? { variables } : undefined);
  } catch (error) {
    if (error instanceof Response) {
      const body = (await error.json().catch(() => ({}))) as GraphqlBody<unknown>;
      if (error.status === 429) throw new ShopifyThrottledError(throttleDelayMs(body.extensions?.cost, 2000));
      failFromBody(operation, { errors: [{ message: `HTTP ${error.status}` }], ...body }, error.status);
    }
    const thrown = error as { body?: GraphqlBody<unknown>; response?: { status?: number; code?: number } };
    if (thrown && typeof thrown === "object" && thrown.body && typeof thrown.body === "object") {
      failFromBody(operation, thrown.body, thrown.response?.status ?? thrown.response?.code ?? null);
    }
    throw error;
  }
  if (response.status === 429) throw new ShopifyThrottledError(2000);
  const body = (await response.json()) as GraphqlBody<T>;
  if (!response.ok || graphqlErrorsOf(body).length > 0 || body.data === undefined || body.data === null) {
    failFromBody(operation, body, response.ok ? null : response.status);
  }
  const cost = body.extensions?.cost;
  return { data: body.data as T, cost: { requested: cost?.requestedQueryCost ?? 0, actual: cost?.actualQueryCost ?? null } };
}

function assertNoUserErrors(
  operation: string,
  userErrors: Array<{ field?: string[] | null; message: string; code?: string | null }> | undefined | null,
): void {
  if (userErrors && userErrors.length > 0) throw new ShopifyUserError(operation, userErrors);
}

// ---------------------------------------------------------------------------------------------------
// Listing

const MEDIA_IMAGE_FIELDS = `#graphql
  fragment CatalogMediaImage on MediaImage {
    id
    alt
    status
    mimeType
    image { url altText width height }
  }
`;

// The product fields both the listing and the by-id read use (the media list through CatalogMediaImage).
const PRODUCT_IMAGE_FIELDS = `#graphql
  fragment CatalogProductWithImages on Product {
    id
    title
    handle
    media(first: $mediaFirst) {
      nodes {
        mediaContentType
        ...CatalogMediaImage
      }
    }
  }
  ${MEDIA_IMAGE_FIELDS}
`;

const LIST_PRODUCT_IMAGES = `#graphql
  query CatalogProductImages($first: Int!, $after: String, $query: String, $mediaFirst: Int!) {
    products(first: $first, after: $after, query: $query, sortKey: TITLE) {
      pageInfo { hasNextPage endCursor }
      nodes {
        ...CatalogProductWithImages
      }
    }
  }
  ${PRODUCT_IMAGE_FIELDS}
`;

// By id in cheap reads instead of one dear one: the products' first media ids (about 14 points a product for ten,
// so 70 a call; products with more are read again for up to 50), then the images' fields for up to 250 media at once
// (about 2 points each). A selection of 50 images on 50 products costs about 800 points: one standard bucket.
const PRODUCT_MEDIA_IDS = `#graphql
  query CatalogProductMediaIds($ids: [ID!]!, $mediaFirst: Int!) {
    nodes(ids: $ids) {
      ... on Product {
        id
        title
        handle
        media(first: $mediaFirst) {
          nodes { id mediaContentType }
          pageInfo { hasNextPage }
        }
      }
    }
  }
`;

const MEDIA_BY_ID = `#graphql
  query CatalogMediaById($ids: [ID!]!) {
    nodes(ids: $ids) {
      ...CatalogMediaImage
    }
  }
  ${MEDIA_IMAGE_FIELDS}
`;

interface MediaNode {
  mediaContentType?: string;
  id?: string;
  alt?: string | null;
  status?: string;
  mimeType?: string | null;
  image?: { url: string; altText: string | null; width: number | null; height: number | null } | null;
}
interface ProductNode {
  id?: string;
  title?: string;
  handle?: string;
  media?: { nodes: MediaNode[]; pageInfo?: { hasNextPage: boolean } };
}

function imagesOfProduct(product: ProductNode): ProductImage[] {
  if (!product.id || !product.media) return [];
  const images: ProductImage[] = [];
  product.media.nodes.forEach((media, index) => {
    // Position counts every media (videos and 3D models too), so it matches the product page order.
    if (!media.id || !media.id.includes("/MediaImage/")) return;
    images.push({
      productId: product.id!,
      productTitle: product.title ?? "",
      productHandle: product.handle ?? "",
      mediaId: media.id,
      url: media.image?.url ?? "",
      alt: media.alt ?? media.image?.altText ?? null,
      width: media.image?.width ?? null,
      height: media.image?.height ?? null,
      mimeType: media.mimeType ?? null,
      position: index + 1,
      status: media.status ?? "READY",
    });
  });
  return images;
}

export const MAX_IMAGES_PER_PRODUCT = 50;

/** One page of products with their images, flattened (one entry per MediaImage). */
export async function listProductImages(
  graphql: AdminGraphql,
  opts: { first?: number; after?: string | null; query?: string | null; imagesPerProduct?: number } = {},
): Promise<{ images: ProductImage[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; cost: QueryCost }> {
  const mediaFirst = Math.min(Math.max(opts.imagesPerProduct ?? 10, 1), MAX_IMAGES_PER_PRODUCT);
  // Stay under Shopify's single-query limit of 1000 points: each product costs 1 + media (2 + 2 per image).
  const first = Math.min(Math.max(opts.first ?? 25, 1), 250, Math.floor(990 / (3 + 2 * mediaFirst)));
  const { data, cost } = await runGraphql<{
    products: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: ProductNode[] };
  }>(graphql, "CatalogProductImages", LIST_PRODUCT_IMAGES, {
    first,
    after: opts.after ?? null,
    query: opts.query ?? null,
    mediaFirst,
  });
  return { images: data.products.nodes.flatMap(imagesOfProduct), pageInfo: data.products.pageInfo, cost };
}

/**
 * Every image of the given products (ids that are not products, or not found, are ignored), or only `onlyMedia` of
 * them. Admin calls: one per 70 products (again, one per 18, for those with more than ten media when needed), then one
 * per 250 images.
 */
export async function getImagesOfProducts(graphql: AdminGraphql, productIds: string[], onlyMedia?: Set<string>): Promise<ProductImage[]> {
  let products = await readProductMedia(graphql, productIds, 10);
  const listed = () => new Set(products.flatMap((p) => p.media!.nodes.map((m) => m.id)));
  const unseen = onlyMedia ? [...onlyMedia].some((id) => !listed().has(id)) : true;
  const longer = products.filter((p) => p.media!.pageInfo?.hasNextPage).map((p) => p.id!);
  if (unseen && longer.length) {
    const reread = new Map((await readProductMedia(graphql, longer, MAX_IMAGES_PER_PRODUCT)).map((p) => [p.id!, p]));
    products = products.map((p) => reread.get(p.id!) ?? p);
  }
  const mediaIds = products.flatMap((p) => p.media!.nodes.flatMap((m) => (m.id?.includes("/MediaImage/") && (!onlyMedia || onlyMedia.has(m.id)) ? [m.id] : [])));
  const details = new Map<string, MediaNode>();
  for (let i = 0; i < mediaIds.length; i += 250) {
    const { data } = await withThrottleRetry(() =>
      runGraphql<{ nodes: Array<MediaNode | null> }>(graphql, "CatalogMediaById", MEDIA_BY_ID, { ids: mediaIds.slice(i, i + 250) }),
    );
    for (const node of data.nodes) if (node?.id) details.set(node.id, node);
  }
  // Positions count every media of the product (as its page shows them), so they come from the product's list.
  return products.flatMap((product) =>
    imagesOfProduct({ ...product, media: { nodes: product.media!.nodes.map((m) => (m.id && details.has(m.id) ? { ...m, ...details.get(m.id) } : {})) } }),
  );
}

async function readProductMedia(graphql: AdminGraphql, productIds: string[], mediaFirst: number): Promise<ProductNode[]> {
  const products: ProductNode[] = [];
  const perRequest = Math.floor(990 / (4 + mediaFirst));
  for (let i = 0; i < productIds.length; i += perRequest) {
    const ids = productIds.slice(i, i + perRequest);
    const { data } = await withThrottleRetry(() =>
      runGraphql<{ nodes: Array<ProductNode | null> }>(graphql, "CatalogProductMediaIds", PRODUCT_MEDIA_IDS, { ids, mediaFirst }),
    );
    for (const node of data.nodes) if (node?.id && node.media) products.push(node);
  }
  return products;
}

/** How many catalogue pages a selection without product hints may read looking for its media (a web request waits). */
export const MAX_SELECTION_SCAN_PAGES = 4;

/**
 * Resolves media ids to product images as Shopify has them now (never trusting URLs from a client).
 * `productIds` are a lookup hint: their products are read by id (about nine per Admin call), so a selection made on
 * the Images page, which sends the product of every selected image, costs calls in proportion to its products, not to
 * the catalogue. Media the hints do not cover are looked for in at most MAX_SELECTION_SCAN_PAGES catalogue pages (a
 * MediaImage does not name its product); those still not found are `missingMediaIds`, and `searchIncomplete` says
 * whether the catalogue had more pages than were read.
 */
export async function resolveSelection(
  graphql: AdminGraphql,
  selection: { mediaIds?: string[]; productIds?: string[] },
): Promise<{ images: ProductImage[]; missingMediaIds: string[]; searchIncomplete: boolean }> {
  const wantedMedia = new Set(selection.mediaIds ?? []);
  const productIds = [...new Set(selection.productIds ?? [])];
  const fromProducts = productIds.length ? await getImagesOfProducts(graphql, productIds, wantedMedia.size ? wantedMedia : undefined) : [];
  if (wantedMedia.size === 0) return { images: fromProducts, missingMediaIds: [], searchIncomplete: false };

  const found = new Map<string, ProductImage>();
  for (const image of fromProducts) if (wantedMedia.has(image.mediaId)) found.set(image.mediaId, image);
  let after: string | null = null;
  let searchIncomplete = false;
  for (let pages = 0; found.size < wantedMedia.size; pages++) {
    if (pages >= MAX_SELECTION_SCAN_PAGES) {
      searchIncomplete = true;
      break;
    }
    const page = await withThrottleRetry(() => listProductImages(graphql, { first: 50, after, imagesPerProduct: 25 }));
    for (const image of page.images) if (wantedMedia.has(image.mediaId)) found.set(image.mediaId, image);
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const ordered = [...wantedMedia].map((id) => found.get(id)).filter((x): x is ProductImage => Boolean(x));
  return { images: ordered, missingMediaIds: [...wantedMedia].filter((id) => !found.has(id)), searchIncomplete };
}

/** Waits out a THROTTLED answer a few times (for interactive reads that must complete). */
export async function withThrottleRetry<T>(fn: () => Promise<T>, maxWaits = 5): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ShopifyThrottledError) || attempt >= maxWaits) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(error.retryAfterMs, 10_000)));
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// One media image

const MEDIA_IMAGE_STATE = `#graphql
  query CatalogMediaImageState($id: ID!) {
    node(id: $id) {
      ... on MediaImage {
        id
        alt
        fileStatus
        mimeType
        image { url width height }
        fileErrors { code message details }
      }
    }
  }
`;

export interface MediaImageState {
  id: string;
  alt: string | null;
  fileStatus: string;
  mimeType: string | null;
  url: string | null;
  fileErrors: Array<{ code: string; message: string; details: string | null }>;
}

export async function getMediaImage(graphql: AdminGraphql, mediaId: string): Promise<MediaImageState | null> {
  const { data } = await runGraphql<{
    node: {
      id?: string;
      alt?: string | null;
      fileStatus?: string;
      mimeType?: string | null;
      image?: { url: string } | null;
      fileErrors?: Array<{ code: string; message: string; details: string | null }>;
    } | null;
  }>(graphql, "CatalogMediaImageState", MEDIA_IMAGE_STATE, { id: mediaId });
  const node = data.node;
  if (!node?.id) return null;
  return {
    id: node.id,
    alt: node.alt ?? null,
    fileStatus: node.fileStatus ?? "READY",
    mimeType: node.mimeType ?? null,
    url: node.image?.url ?? null,
    fileErrors: node.fileErrors ?? [],
  };
}

// ---------------------------------------------------------------------------------------------------
// Backup, staged upload, replace, wait

const FILE_CREATE = `#graphql
  mutation CatalogBackupFileCreate($files: [FileCreateInput!]!) {
    fileCreate(files: $files) {
      files { id fileStatus }
      userErrors { field message code }
    }
  }
`;

/** Copies an image (by URL) into Shopify Files; returns the new file's id (it becomes READY later). */
export async function createBackupFile(
  graphql: AdminGraphql,
  input: { originalUrl: string; alt: string | null; filename: string },
): Promise<{ fileId: string }> {
  const { data } = await runGraphql<{
    fileCreate: { files: Array<{ id: string }> | null; userErrors: Array<{ field?: string[] | null; message: string }> };
  }>(graphql, "CatalogBackupFileCreate", FILE_CREATE, {
    files: [{ originalSource: input.originalUrl, contentType: "IMAGE", alt: input.alt ?? "", filename: input.filename }],
  });
  assertNoUserErrors("fileCreate", data.fileCreate.userErrors);
  const file = data.fileCreate.files?.[0];
  if (!file) throw new ShopifyApiError("Shopify fileCreate returned no file", null);
  return { fileId: file.id };
}

const STAGED_UPLOADS_CREATE = `#graphql
  mutation CatalogStagedUploadsCreate($input: [StagedUploadInput!]!) {
    stagedUploadsCreate(input: $input) {
      stagedTargets { url resourceUrl parameters { name value } }
      userErrors { field message }
    }
  }
`;

/** stagedUploadsCreate, then the multipart POST of the bytes to the target; returns the resourceUrl. */
export async function stagedUpload(
  graphql: AdminGraphql,
  input: { bytes: Buffer; filename: string; mimeType: string },
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const { data } = await runGraphql<{
    stagedUploadsCreate: {
      stagedTargets: Array<{ url: string | null; resourceUrl: string | null; parameters: Array<{ name: string; value: string }> }> | null;
      userErrors: Array<{ field?: string[] | null; message: string }>;
    };
  }>(graphql, "CatalogStagedUploadsCreate", STAGED_UPLOADS_CREATE, {
    input: [
      {
        resource: "IMAGE",
        filename: input.filename,
        mimeType: input.mimeType,
        httpMethod: "POST",
        fileSize: String(input.bytes.length),
      },
    ],
  });
  assertNoUserErrors("stagedUploadsCreate", data.stagedUploadsCreate.userErrors);
  const target = data.stagedUploadsCreate.stagedTargets?.[0];
  if (!target?.url || !target.resourceUrl) throw new ShopifyApiError("Shopify returned no staged upload target", null);
  const form = new FormData();
  for (const p of target.parameters) form.append(p.name, p.value);
  form.append("file", new Blob([new Uint8Array(input.bytes)], { type: input.mimeType }), input.filename);
  const upload = await fetchImpl(target.url, { method: "POST", body: form });
  if (!upload.ok) {
    const text = await upload.text().catch(() => "");
    throw new ShopifyApiError(`Staged upload failed with HTTP ${upload.status} ${text.slice(0, 200)}`, upload.status >= 500 ? 503 : null);
  }
  await upload.body?.cancel().catch(() => undefined);
  return target.resourceUrl;
}

const FILE_UPDATE = `#graphql
  mutation CatalogReplaceMediaImage($files: [FileUpdateInput!]!) {
    fileUpdate(files: $files) {
      files { id fileStatus }
      userErrors { field message code }
    }
  }
`;

/**
 * fileUpdate with a new originalSource on the SAME MediaImage (id, position, variants kept; alt kept unless given), or
 * with only a new alt.
 */
export async function replaceMediaImage(graphql: AdminGraphql, input: { mediaId: string; originalSource?: string; alt?: string }): Promise<void> {
  const file = { id: input.mediaId, ...(input.originalSource ? { originalSource: input.originalSource } : {}), ...(input.alt !== undefined ? { alt: input.alt } : {}) };
  const { data } = await runGraphql<{
    fileUpdate: { files: Array<{ id: string }> | null; userErrors: Array<{ field?: string[] | null; message: string }> };
  }>(graphql, "CatalogReplaceMediaImage", FILE_UPDATE, { files: [file] });
  assertNoUserErrors("fileUpdate", data.fileUpdate.userErrors);
}

const SHOP_LOCALES = `#graphql
  query CatalogShopLocales {
    shopLocales(published: true) { locale primary }
  }
`;

/** The shop's primary language (e.g. "es"), in which its alt text is written. */
export async function shopPrimaryLocale(graphql: AdminGraphql): Promise<string> {
  const { data } = await runGraphql<{ shopLocales: Array<{ locale: string; primary: boolean }> }>(graphql, "CatalogShopLocales", SHOP_LOCALES);
  return data.shopLocales.find((l) => l.primary)?.locale ?? "en";
}

const FILE_ACKNOWLEDGE_UPDATE_FAILED = `#graphql
  mutation CatalogAcknowledgeUpdateFailed($fileIds: [ID!]!) {
    fileAcknowledgeUpdateFailed(fileIds: $fileIds) {
      files { id fileStatus }
      userErrors { field message code }
    }
  }
`;

export async function acknowledgeUpdateFailed(graphql: AdminGraphql, fileId: string): Promise<void> {
  const { data } = await runGraphql<{
    fileAcknowledgeUpdateFailed: { userErrors: Array<{ field?: string[] | null; message: string }> };
  }>(graphql, "CatalogAcknowledgeUpdateFailed", FILE_ACKNOWLEDGE_UPDATE_FAILED, { fileIds: [fileId] });
  assertNoUserErrors("fileAcknowledgeUpdateFailed", data.fileAcknowledgeUpdateFailed.userErrors);
}

const FILE_ERROR_MESSAGES: Record<string, string> = {
  UNSUPPORTED_IMAGE_FILE_TYPE: "Shopify does not accept this image type.",
  INVALID_IMAGE_FILE_SIZE: "The image file is too large for Shopify.",
  INVALID_IMAGE_RESOLUTION: "The image resolution is outside what Shopify accepts.",
  INVALID_IMAGE_ASPECT_RATIO: "The image aspect ratio is outside what Shopify accepts.",
  IMAGE_PROCESSING_FAILURE: "Shopify could not process the new image.",
  IMAGE_DOWNLOAD_FAILURE: "Shopify could not download the new image.",
  FILE_STORAGE_LIMIT_EXCEEDED: "The store's file storage is full.",
};

/**
 * Polls the file until READY. On FAILED, acknowledges the failure (so the file leaves the FAILED state
 * and keeps its previous content) and throws ShopifyFileFailedError with a readable reason.
 */
export async function waitForFileReady(
  graphql: AdminGraphql,
  fileId: string,
  opts: { timeoutMs?: number; pollMs?: number; acknowledgeFailure?: boolean } = {},
): Promise<MediaImageState> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let pollMs = opts.pollMs ?? 250;
  for (;;) {
    let state: MediaImageState | null;
    try {
      state = await getMediaImage(graphql, fileId);
    } catch (error) {
      // The mutation already went through: wait out a throttled poll here rather than redo the update.
      if (!(error instanceof ShopifyThrottledError) || Date.now() + error.retryAfterMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      continue;
    }
    if (!state) throw new ShopifyApiError(`The image ${fileId} no longer exists in Shopify`, 404);
    if (state.fileStatus === "READY") return state;
    if (state.fileStatus === "FAILED") {
      const first = state.fileErrors[0];
      const reason = first
        ? `${FILE_ERROR_MESSAGES[first.code] ?? "Shopify could not process the new image."} (${first.details ?? first.message})`
        : "Shopify could not process the new image.";
      if (opts.acknowledgeFailure !== false) {
        await acknowledgeUpdateFailed(graphql, fileId).catch((error: Error) =>
          logger.warn({ fileId, err: error.message }, "fileAcknowledgeUpdateFailed failed"),
        );
      }
      throw new ShopifyFileFailedError(reason);
    }
    if (Date.now() > deadline) throw new ShopifyApiError(`Shopify is still processing ${fileId}; will check again`, 503);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    pollMs = Math.min(pollMs * 1.5, 2000);
  }
}

/** `gid://shopify/MediaImage/123` -> `123` (for file names). */
export function gidNumber(gid: string): string {
  return gid.split("/").pop() ?? gid;
}
