/**
 * The store's catalogue through the Admin GraphQL API: list products and their images, back up an
 * original into Shopify Files, upload a processed image (staged upload), replace a MediaImage in place
 * (fileUpdate keeps its id, position, alt text and variant links) and wait for Shopify to process it.
 * The Admin client is passed in (`admin.graphql` from shopify-app-remix, or the worker's offline client).
 */
import {
  assertNoUserErrors,
  readThrottled,
  runGraphql,
  ShopifyApiError,
  ShopifyThrottledError,
  withThrottleRetry,
  type AdminGraphql,
  type QueryCost,
  type ThrottledRead,
} from "~/lib/admin-graphql.server";
import { AppError } from "~/lib/app-error";
import { getConfig } from "~/lib/config.server";
import { logger } from "~/lib/logger.server";
import type { CatalogMediaImageFragment, CatalogProductMediaIdsQuery } from "~/types/admin.generated";

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

/** Shopify could not process a replaced file (fileStatus FAILED). The message is readable by a merchant. */
export class ShopifyFileFailedError extends AppError {
  constructor(reason: string) {
    super(reason, { httpStatus: 502 });
    this.name = "ShopifyFileFailedError";
  }
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
` as const;

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
` as const;

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
` as const;

type MediaImageFields = CatalogMediaImageFragment;
type ProductMedia = Extract<NonNullable<CatalogProductMediaIdsQuery["nodes"][number]>, { media: unknown }>;

/**
 * One entry per MediaImage of the product. `media` is every media in page order (undefined where it is not an image
 * or was not read): position counts videos and 3D models too, so it matches the product page.
 */
function imagesOfProduct(
  product: { id: string; title: string; handle: string },
  media: ReadonlyArray<MediaImageFields | undefined>,
): ProductImage[] {
  const images: ProductImage[] = [];
  media.forEach((image, index) => {
    if (!image?.id.includes("/MediaImage/")) return;
    images.push({
      productId: product.id,
      productTitle: product.title,
      productHandle: product.handle,
      mediaId: image.id,
      url: image.image?.url ?? "",
      alt: image.alt ?? image.image?.altText ?? null,
      width: image.image?.width ?? null,
      height: image.image?.height ?? null,
      mimeType: image.mimeType ?? null,
      position: index + 1,
      status: image.status,
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
  const { data, cost } = await runGraphql(graphql, LIST_PRODUCT_IMAGES, {
    first,
    after: opts.after ?? null,
    query: opts.query ?? null,
    mediaFirst,
  });
  const images = data.products.nodes.flatMap((product) =>
    imagesOfProduct(
      product,
      product.media.nodes.map((m) => ("id" in m ? m : undefined)),
    ),
  );
  const { hasNextPage, endCursor } = data.products.pageInfo;
  return { images, pageInfo: { hasNextPage, endCursor: endCursor ?? null }, cost };
}

/**
 * Every image of the given products (ids that are not products, or not found, are ignored), or only `onlyMedia` of
 * them. Admin calls: one per 70 products (again, one per 18, for those with more than ten media when needed), then one
 * per 250 images. A job passes `throttled: "rethrow"` (see ThrottledRead).
 */
export async function getImagesOfProducts(
  graphql: AdminGraphql,
  productIds: string[],
  onlyMedia?: Set<string>,
  throttled: ThrottledRead = "wait",
): Promise<ProductImage[]> {
  let products = await readProductMedia(graphql, productIds, 10, throttled);
  const listed = () => new Set(products.flatMap((p) => p.media.nodes.map((m) => m.id)));
  const unseen = onlyMedia ? [...onlyMedia].some((id) => !listed().has(id)) : true;
  const longer = products.filter((p) => p.media.pageInfo.hasNextPage).map((p) => p.id);
  if (unseen && longer.length) {
    const reread = new Map((await readProductMedia(graphql, longer, MAX_IMAGES_PER_PRODUCT, throttled)).map((p) => [p.id, p]));
    products = products.map((p) => reread.get(p.id) ?? p);
  }
  const mediaIds = products.flatMap((p) =>
    p.media.nodes.flatMap((m) => (m.id.includes("/MediaImage/") && (!onlyMedia || onlyMedia.has(m.id)) ? [m.id] : [])),
  );
  const details = new Map<string, MediaImageFields>();
  for (let i = 0; i < mediaIds.length; i += 250) {
    const { data } = await readThrottled(throttled, () => runGraphql(graphql, MEDIA_BY_ID, { ids: mediaIds.slice(i, i + 250) }));
    for (const node of data.nodes) if (node && "id" in node) details.set(node.id, node);
  }
  // Positions count every media of the product (as its page shows them), so they come from the product's list.
  return products.flatMap((product) =>
    imagesOfProduct(
      product,
      product.media.nodes.map((m) => details.get(m.id)),
    ),
  );
}

async function readProductMedia(
  graphql: AdminGraphql,
  productIds: string[],
  mediaFirst: number,
  throttled: ThrottledRead,
): Promise<ProductMedia[]> {
  const products: ProductMedia[] = [];
  const perRequest = Math.floor(990 / (4 + mediaFirst));
  for (let i = 0; i < productIds.length; i += perRequest) {
    const ids = productIds.slice(i, i + perRequest);
    const { data } = await readThrottled(throttled, () => runGraphql(graphql, PRODUCT_MEDIA_IDS, { ids, mediaFirst }));
    for (const node of data.nodes) if (node && "media" in node) products.push(node);
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
  const { data } = await runGraphql(graphql, MEDIA_IMAGE_STATE, { id: mediaId });
  const node = data.node;
  if (!node || !("fileStatus" in node)) return null;
  return {
    id: node.id,
    alt: node.alt ?? null,
    fileStatus: node.fileStatus,
    mimeType: node.mimeType ?? null,
    url: node.image?.url ?? null,
    fileErrors: node.fileErrors.map((e) => ({ code: e.code, message: e.message, details: e.details ?? null })),
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
  const { data } = await runGraphql(graphql, FILE_CREATE, {
    files: [{ originalSource: input.originalUrl, contentType: "IMAGE", alt: input.alt ?? "", filename: input.filename }],
  });
  assertNoUserErrors("fileCreate", data.fileCreate?.userErrors);
  const file = data.fileCreate?.files?.[0];
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
  const { data } = await runGraphql(graphql, STAGED_UPLOADS_CREATE, {
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
  assertNoUserErrors("stagedUploadsCreate", data.stagedUploadsCreate?.userErrors);
  const target = data.stagedUploadsCreate?.stagedTargets?.[0];
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
export async function replaceMediaImage(
  graphql: AdminGraphql,
  input: { mediaId: string; originalSource?: string; alt?: string },
): Promise<void> {
  const file = {
    id: input.mediaId,
    ...(input.originalSource ? { originalSource: input.originalSource } : {}),
    ...(input.alt !== undefined ? { alt: input.alt } : {}),
  };
  const { data } = await runGraphql(graphql, FILE_UPDATE, { files: [file] });
  assertNoUserErrors("fileUpdate", data.fileUpdate?.userErrors);
}

const SHOP_LOCALES = `#graphql
  query CatalogShopLocales {
    shopLocales(published: true) { locale primary }
  }
`;

/** The shop's primary language (e.g. "es"), in which its alt text is written. */
export async function shopPrimaryLocale(graphql: AdminGraphql): Promise<string> {
  const { data } = await runGraphql(graphql, SHOP_LOCALES);
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
  const { data } = await runGraphql(graphql, FILE_ACKNOWLEDGE_UPDATE_FAILED, { fileIds: [fileId] });
  assertNoUserErrors("fileAcknowledgeUpdateFailed", data.fileAcknowledgeUpdateFailed?.userErrors);
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
  opts: { timeoutMs?: number; acknowledgeFailure?: boolean } = {},
): Promise<MediaImageState> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let pollMs = getConfig().FILE_READY_POLL_MS;
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
