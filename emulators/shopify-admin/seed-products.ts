/**
 * Fills a stand-in shop with products made from given photos the way a merchant's store gets them from Shopify
 * admin or an import: each photo goes through the Admin API (stagedUploadsCreate, the multipart upload to the
 * staged target, productCreate with the resource URL as the media's originalSource), then waits until Shopify has
 * processed the media (READY). The demo seeds the real-photo corpus this way; tests seed source files of every kind
 * (CMYK, 16-bit, alpha, EXIF-rotated) this way, so the app finds them exactly as a real store would hold them.
 */
import { ADMIN_API_VERSION_STRING } from "../../app/api-version";

export interface SeedPhoto {
  title: string;
  bytes: Buffer;
  /** Uploaded under this name (its extension is the file's). */
  filename: string;
  mimeType: string;
  alt?: string;
  productType?: string;
  tags?: string[];
}

export interface SeededProduct {
  productId: string;
  title: string;
  mediaId: string;
}

export interface AdminTarget {
  /** The stand-in's base URL. */
  url: string;
  shop: string;
  /** An Admin API access token of the shop (e.g. `grantAccessToken(shop)`). */
  accessToken: string;
}

const STAGED_UPLOADS_CREATE = `#graphql
  mutation SeedStagedUploadsCreate($input: [StagedUploadInput!]!) {
    stagedUploadsCreate(input: $input) {
      stagedTargets { url resourceUrl parameters { name value } }
      userErrors { field message }
    }
  }
`;

const PRODUCT_CREATE = `#graphql
  mutation SeedProductCreate($product: ProductCreateInput!, $media: [CreateMediaInput!]) {
    productCreate(product: $product, media: $media) {
      product { id title media(first: 10) { nodes { id } } }
      userErrors { field message }
    }
  }
`;

const MEDIA_STATUS = `#graphql
  query SeedMediaStatus($ids: [ID!]!) {
    nodes(ids: $ids) {
      id
      ... on MediaImage { status mediaErrors { code message } }
    }
  }
`;

/** Uploads went in groups this size (one stagedUploadsCreate each). */
const STAGE_GROUP = 25;

export async function seedProductPhotos(
  target: AdminTarget,
  photos: readonly SeedPhoto[],
  opts: { timeoutMs?: number; concurrency?: number } = {},
): Promise<SeededProduct[]> {
  const seeded: SeededProduct[] = [];
  for (let start = 0; start < photos.length; start += STAGE_GROUP) {
    const group = photos.slice(start, start + STAGE_GROUP);
    const staged = await adminGraphql<{
      stagedUploadsCreate: {
        stagedTargets: Array<{ url: string; resourceUrl: string; parameters: Array<{ name: string; value: string }> }> | null;
        userErrors: UserError[];
      };
    }>(target, "SeedStagedUploadsCreate", STAGED_UPLOADS_CREATE, {
      input: group.map((photo) => ({
        resource: "IMAGE",
        filename: photo.filename,
        mimeType: photo.mimeType,
        httpMethod: "POST",
        fileSize: String(photo.bytes.length),
      })),
    });
    assertNoUserErrors("stagedUploadsCreate", staged.stagedUploadsCreate.userErrors);
    const targets = staged.stagedUploadsCreate.stagedTargets ?? [];
    if (targets.length !== group.length)
      throw new Error(`stagedUploadsCreate returned ${targets.length} targets for ${group.length} files`);
    seeded.push(
      ...(await mapInOrder(group, opts.concurrency ?? 4, async (photo, i) => {
        const stagedTarget = targets[i]!;
        await upload(stagedTarget, photo);
        const created = await adminGraphql<{
          productCreate: {
            product: { id: string; title: string; media: { nodes: Array<{ id: string }> } } | null;
            userErrors: UserError[];
          };
        }>(target, "SeedProductCreate", PRODUCT_CREATE, {
          product: { title: photo.title, productType: photo.productType, tags: photo.tags },
          media: [{ originalSource: stagedTarget.resourceUrl, mediaContentType: "IMAGE", alt: photo.alt ?? photo.title }],
        });
        assertNoUserErrors("productCreate", created.productCreate.userErrors);
        const product = created.productCreate.product;
        const mediaId = product?.media.nodes[0]?.id;
        if (!product || !mediaId) throw new Error(`productCreate made no product with media for ${photo.filename}`);
        return { productId: product.id, title: product.title, mediaId };
      })),
    );
  }
  await waitForMediaReady(
    target,
    seeded.map((s) => s.mediaId),
    opts.timeoutMs ?? 60_000,
  );
  return seeded;
}

/** The multipart POST to a staged target: its parameters first, the file last (as Google Cloud Storage wants). */
async function upload(target: { url: string; parameters: Array<{ name: string; value: string }> }, photo: SeedPhoto): Promise<void> {
  const form = new FormData();
  for (const p of target.parameters) form.append(p.name, p.value);
  form.append("file", new Blob([new Uint8Array(photo.bytes)], { type: photo.mimeType }), photo.filename);
  const response = await fetch(target.url, { method: "POST", body: form });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`uploading ${photo.filename} to the staged target answered HTTP ${response.status}: ${text.slice(0, 200)}`);
}

async function waitForMediaReady(target: AdminTarget, ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = ids;
  while (pending.length) {
    const waiting: string[] = [];
    for (let start = 0; start < pending.length; start += 100) {
      const { nodes } = await adminGraphql<{
        nodes: Array<{ id: string; status?: string; mediaErrors?: Array<{ message: string }> } | null>;
      }>(target, "SeedMediaStatus", MEDIA_STATUS, { ids: pending.slice(start, start + 100) });
      for (const [i, node] of nodes.entries()) {
        const id = pending[start + i]!;
        if (node?.status === "FAILED")
          throw new Error(`Shopify could not process media ${id}: ${node.mediaErrors?.map((e) => e.message).join("; ")}`);
        if (node?.status !== "READY") waiting.push(id);
      }
    }
    pending = waiting;
    if (!pending.length) return;
    if (Date.now() > deadline) throw new Error(`${pending.length} seeded media were still not READY after ${timeoutMs} ms`);
    await sleep(100);
  }
}

type UserError = { field?: string[] | null; message: string };

function assertNoUserErrors(operation: string, errors: UserError[]): void {
  if (errors.length)
    throw new Error(`${operation} refused: ${errors.map((e) => `${e.field?.join(".") ?? ""} ${e.message}`.trim()).join("; ")}`);
}

/** One Admin GraphQL call; a THROTTLED answer waits for the bucket to refill and tries again. */
async function adminGraphql<T>(target: AdminTarget, operationName: string, query: string, variables: Record<string, unknown>): Promise<T> {
  for (;;) {
    const response = await fetch(`${target.url}/admin/api/${ADMIN_API_VERSION_STRING}/graphql.json`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-emulated-shop": target.shop, "x-shopify-access-token": target.accessToken },
      body: JSON.stringify({ query, variables, operationName }),
    });
    if (!response.ok) throw new Error(`${operationName} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const body = (await response.json()) as {
      data?: T;
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
      extensions?: { cost?: { requestedQueryCost?: number; throttleStatus?: { currentlyAvailable: number; restoreRate: number } } };
    };
    if (body.errors?.some((e) => e.extensions?.code === "THROTTLED")) {
      const cost = body.extensions?.cost;
      const missing = (cost?.requestedQueryCost ?? 0) - (cost?.throttleStatus?.currentlyAvailable ?? 0);
      await sleep(Math.max(100, (missing / (cost?.throttleStatus?.restoreRate ?? 50)) * 1000));
      continue;
    }
    if (body.errors?.length || !body.data)
      throw new Error(`${operationName} failed: ${body.errors?.map((e) => e.message).join("; ") ?? "no data"}`);
    return body.data;
  }
}

/** `task` over `items`, `concurrency` at a time, results in the items' order. */
async function mapInOrder<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
