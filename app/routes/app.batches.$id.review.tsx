import { json, type ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { itemActionError } from "~/lib/item-action-response.server";
import { errorPayload } from "~/lib/merchant-message";
import { checkRateLimit } from "~/lib/rate-limit.server";
import { MAX_SELECTION_BODY_BYTES, readTextCapped } from "~/lib/read-capped.server";
import db from "~/db.server";
import { reviewItems } from "~/models/batches.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

const REVIEW_NO_SELECTION = "Select at least one image held for review.";
const reviewSchema = z.object({
  decision: z.enum(["approve", "reject"], { message: "Choose approve or reject." }),
  itemIds: z.array(z.string().min(1).max(64)).min(1, REVIEW_NO_SELECTION),
});

/**
 * Bulk approve or reject of a batch's held images: each image through the single-image action and its own guard,
 * answered per image (`outcomes`), so one image changed meanwhile is refused alone.
 */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const limited = await checkRateLimit("batch-review", session.shop);
  if (limited) return limited;
  const raw = await readTextCapped(request, MAX_SELECTION_BODY_BYTES);
  if (raw === null) {
    return json(
      { ok: false as const, ...errorPayload("Too many images at once. Select fewer and try again.", { code: "selectionTooLarge" }) },
      { status: 413 },
    );
  }
  const form = new URLSearchParams(raw);
  const parsed = reviewSchema.safeParse({ decision: form.get("decision"), itemIds: form.getAll("itemId") });
  if (!parsed.success) {
    // An empty selection is the merchant's to fix; any other malformed request is not one the page sends.
    const issue = parsed.error.issues[0];
    const empty = issue?.code === "too_small" && issue.path.join(".") === "itemIds";
    const refusal = empty
      ? errorPayload(REVIEW_NO_SELECTION, { code: "reviewNoSelection" })
      : errorPayload(issue?.message ?? "Invalid selection.", { code: "reloadPage" });
    return json({ ok: false as const, ...refusal }, { status: 400 });
  }
  const batchId = params.id ?? "";
  try {
    const outcomes = await reviewItems({ db, queue: getQueue() }, session.shop, batchId, parsed.data.decision, parsed.data.itemIds);
    return json({ ok: true as const, decision: parsed.data.decision, outcomes });
  } catch (error) {
    return itemActionError({ shop: session.shop, action: `bulk-${parsed.data.decision}`, id: batchId }, error);
  }
};
