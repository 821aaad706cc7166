/**
 * JSON endpoint for the admin action extension (Products list bulk action and product details):
 * POST { productIds?, mediaIds?, pipeline } creates a batch; GET ?id=<batchId> returns its progress; GET without an id
 * returns { creditsPerImage }, the price the extension shows before the merchant starts a batch.
 * Authenticated by the session token the extension sends; CORS for the admin's extension origin only.
 */
import { json, type ActionFunctionArgs, type LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import db from "~/db.server";
import { BatchInputError, createBatch, getBatchProgress } from "~/models/batches.server";
import { CREDITS_PER_IMAGE } from "~/models/credit-ledger.server";
import { getQueue } from "~/queue/queue.server";
import { pinCorsOrigin, refuseForeignOrigin } from "~/lib/extension-cors.server";
import { checkRateLimit } from "~/lib/rate-limit.server";
import { MAX_SELECTION_BODY_BYTES, readTextCapped } from "~/lib/read-capped.server";
import { authenticate } from "~/shopify.server";
import { errorResponse } from "~/lib/error-response.server";

const gid = (kind: string) =>
  z.string().regex(new RegExp(`^gid://shopify/${kind}/\\d+$`), `Expected a ${kind} id like gid://shopify/${kind}/123.`);

const createSchema = z
  .object({
    productIds: z.array(gid("Product")).max(250).optional(),
    mediaIds: z.array(gid("MediaImage")).max(1000).optional(),
    pipeline: z.string().min(1, "Choose a pipeline."),
  })
  .refine((v) => (v.productIds?.length ?? 0) + (v.mediaIds?.length ?? 0) > 0, { message: "Select at least one product or image." });

/** authenticate.admin (which answers the preflight itself) for the extension's origin only, with its CORS pinned to it. */
async function authenticateExtension(request: Request) {
  const refused = refuseForeignOrigin(request);
  if (refused) throw refused;
  try {
    const context = await authenticate.admin(request);
    return { ...context, cors: (response: Response) => pinCorsOrigin(request, context.cors(response)) };
  } catch (thrown) {
    throw thrown instanceof Response ? pinCorsOrigin(request, thrown) : thrown;
  }
}

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, cors } = await authenticateExtension(request);
  const batchId = new URL(request.url).searchParams.get("id");
  if (!batchId) return cors(json({ creditsPerImage: CREDITS_PER_IMAGE }));
  const progress = await getBatchProgress(db, session.shop, batchId);
  if (!progress) return cors(json({ error: "This batch was not found." }, { status: 404 }));
  return cors(json(progress));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session, admin, cors } = await authenticateExtension(request);
  if (request.method !== "POST") return cors(json({ error: "Use POST." }, { status: 405 }));
  const limited = await checkRateLimit("batch-create", session.shop);
  if (limited) return cors(limited);
  const raw = await readTextCapped(request, MAX_SELECTION_BODY_BYTES);
  if (raw === null) return cors(json({ error: "The selection is too large to send at once. Select fewer products." }, { status: 413 }));
  let body: unknown = null;
  try {
    body = JSON.parse(raw);
  } catch {
    // Answered below as an invalid selection.
  }
  const parsed = createSchema.safeParse(body);
  if (!parsed.success) {
    return cors(
      json({ error: parsed.error.issues.map((i) => i.message).join(" "), fields: parsed.error.flatten().fieldErrors }, { status: 422 }),
    );
  }
  try {
    const result = await createBatch({ db, graphql: admin.graphql, queue: getQueue() }, session.shop, parsed.data);
    return cors(json(result, { status: 201 }));
  } catch (error) {
    if (error instanceof BatchInputError) {
      return cors(errorResponse(error, { needed: error.needed ?? null, available: error.available ?? null }));
    }
    throw error;
  }
};
