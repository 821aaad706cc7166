import { json, type ActionFunctionArgs } from "@remix-run/node";
import { MAX_INSTRUCTION_LENGTH } from "~/imaging/instruction";
import { runItemAction } from "~/lib/item-action-response.server";
import { errorPayload } from "~/lib/merchant-message";
import { checkRateLimit } from "~/lib/rate-limit.server";
import db from "~/db.server";
import { retryItem } from "~/models/versions.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

/** A form field is at most this long before it is even read as a note (the note itself is capped at 200 characters). */
const MAX_FIELD_CHARS = 2_000;

/** "Try again" on an image, with the merchant's optional note: a new version, 3 credits when it succeeds. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const limited = await checkRateLimit("image-retry", session.shop);
  if (limited) return limited;
  const form = await request.formData();
  const note = form.get("instruction");
  if (note !== null && (typeof note !== "string" || note.length > MAX_FIELD_CHARS)) {
    return json(
      {
        ok: false as const,
        ...errorPayload("The note must be short text (at most 200 characters).", {
          code: "retryNoteInvalid",
          params: { max: MAX_INSTRUCTION_LENGTH },
        }),
      },
      { status: 400 },
    );
  }
  const id = params.id ?? "";
  return runItemAction({ shop: session.shop, action: "retry", id }, async () => {
    const { creditsReserved } = await retryItem({ db, queue: getQueue() }, session.shop, id, note);
    return {
      text: `Making a new version (${creditsReserved} credits, charged only if it succeeds). The earlier version stays available.`,
      message: { code: "retryQueued", params: { count: creditsReserved } },
    };
  });
};
