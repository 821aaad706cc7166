import type { SerializeFrom } from "@remix-run/node";
import type { BatchProgressItem } from "~/models/batches.server";

/**
 * One image of a batch as the batch page's loader gives it: the model's item as JSON, plus `originalUrl` (the
 * original's backup in Shopify Files once the product image was replaced, else the source).
 */
export type BatchItemView = SerializeFrom<BatchProgressItem & { originalUrl: string }>;
