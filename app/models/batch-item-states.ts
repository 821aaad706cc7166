/**
 * A BatchItem's states in groups, as plain data the browser modules (the batch page's gallery and versions) share
 * with the server. Where each state may go, and the one function that moves an item, are in `batch-items.server.ts`.
 */
import type { ItemState } from "@prisma/client";

/** In the schema's order. */
export const ITEM_STATES = [
  "QUEUED",
  "PROCESSING",
  "NEEDS_REVIEW",
  "PUBLISHED",
  "FAILED",
  "RESTORED",
  "CANCELLED",
  "REJECTED",
  "SUPERSEDED",
] as const satisfies readonly ItemState[];
// A state added to the schema and not listed above fails to compile here.
const everyState: Record<Exclude<ItemState, (typeof ITEM_STATES)[number]>, never> = {};
void everyState;

/** Waiting for the worker or being worked on. */
export const IN_FLIGHT_ITEM_STATES: readonly ItemState[] = ["QUEUED", "PROCESSING"];
/** Waiting for the worker or the merchant: a batch with one of these is not done, and its media cannot be queued again. */
export const ACTIVE_ITEM_STATES: readonly ItemState[] = [...IN_FLIGHT_ITEM_STATES, "NEEDS_REVIEW"];
export const FINISHED_ITEM_STATES: readonly ItemState[] = ITEM_STATES.filter((state) => !ACTIVE_ITEM_STATES.includes(state));
/** Finished after being on the product: credits still held for one are captured, not released. */
export const PAID_ITEM_STATES: readonly ItemState[] = ["PUBLISHED", "RESTORED", "SUPERSEDED"];
