/**
 * Alt text of processed images: the worker suggests it (Qwen-VL, in the shop's language) and writes it with the image
 * where the merchant had none; here the merchant edits a suggestion, or writes one over their own alt text.
 */
import type { MerchantText } from "~/lib/merchant-message";
import type { PrismaClient } from "@prisma/client";
import { z } from "zod";
import { BatchInputError, BatchNotFoundError } from "~/models/batches.server";
import type { AdminGraphql } from "~/lib/admin-graphql.server";
import { replaceMediaImage } from "~/models/catalog.server";

/** Shopify's limit for a media's alt text. */
const MAX_ALT = 512;

const altTextField = z
  .string({ required_error: "Enter the alt text." })
  .transform((value) =>
    value
      .replace(/\p{Cc}/gu, " ")
      .replace(/\s+/g, " ")
      .trim(),
  )
  .pipe(
    z.string().min(1, "Enter the alt text, or leave the image's own.").max(MAX_ALT, `Use at most ${MAX_ALT} characters (Shopify's limit).`),
  );

/**
 * Saves the merchant's alt text for an item. Published: written to the product image at once (theirs replaced only
 * because they asked), and restore puts their original alt text back. Held for review: kept as the suggestion, written
 * with the image when it is published if the image had none.
 */
export async function saveAltText(
  deps: { db: PrismaClient; graphql: AdminGraphql },
  shop: string,
  itemId: string,
  input: unknown,
): Promise<MerchantText> {
  const parsed = altTextField.safeParse(input);
  if (!parsed.success) throw new BatchInputError(parsed.error.issues[0]!.message, 422);
  const alt = parsed.data;
  const item = await deps.db.batchItem.findFirst({ where: { id: itemId, shop }, select: { state: true, mediaId: true } });
  if (!item) throw new BatchNotFoundError("This image");
  if (item.state === "NEEDS_REVIEW") {
    await deps.db.batchItem.updateMany({ where: { id: itemId, shop, state: "NEEDS_REVIEW" }, data: { suggestedAlt: alt } });
    return {
      text: "Alt text saved: it is written with the image when you approve it, if the image has none.",
      message: { code: "altSavedForReview" },
    };
  }
  if (item.state !== "PUBLISHED") {
    throw new BatchInputError("Alt text can be written for published images, or saved for images waiting for review.", 409, null, {
      code: "altWrongState",
    });
  }
  await replaceMediaImage(deps.graphql, { mediaId: item.mediaId, alt });
  await deps.db.batchItem.updateMany({ where: { id: itemId, shop }, data: { suggestedAlt: alt, writtenAlt: alt } });
  return { text: "Alt text written to the product image.", message: { code: "altWritten" } };
}
