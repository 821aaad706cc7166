/**
 * Bulk approve/reject of held images from the batch gallery (app.batches.$id.review): each image through its own
 * guard, so an image changed meanwhile is refused alone (409) and nothing is charged twice.
 */
import { describe, expect, it } from "vitest";
import { createBatch, getBatchProgress, rejectItem } from "~/models/batches.server";
import { getBalance } from "~/models/credit-ledger.server";
import { action as reviewAction } from "~/routes/app.batches.$id.review";
import { waitFor } from "../wait";
import { harnessForFile, mediaById, offlineAdmin } from "../batches/harness";
import { bearerRequest, body, call, status } from "./helpers";

const h = harnessForFile({ worker: { concurrency: 3 }, routesEnqueue: true });

type Outcome =
  { id: string; ok: true } | { id: string; ok: false; status: number; error: string; errorCode?: string; errorParams?: object };
type Answer = { ok: boolean; decision?: string; outcomes?: Outcome[]; error?: string; errorCode?: string };

async function review(shop: string, batchId: string, decision: string, itemIds: string[]) {
  const form = new URLSearchParams({ decision });
  for (const id of itemIds) form.append("itemId", id);
  const result = await call(reviewAction, await bearerRequest(shop, `/app/batches/${batchId}/review`, { method: "POST", body: form }), {
    id: batchId,
  });
  return { status: status(result), body: await body<Answer>(result) };
}

const captures = (shop: string) => h.db.creditEntry.count({ where: { shop, kind: "CAPTURE" } });

/** A shop that reviews before publishing, with a batch of `count` images all held for review. */
async function heldBatch(count: number) {
  const shop = await h.addShop({ products: 1, imagesPerProduct: count, credits: 3 * count });
  await h.db.shop.update({ where: { domain: shop }, data: { reviewBeforePublish: true } });
  const originals = mediaById(h.shopify, shop);
  const { batchId } = await createBatch({ db: h.db, graphql: await offlineAdmin(shop), queue: h.queue }, shop, {
    mediaIds: [...originals.keys()],
    pipeline: "amazon",
  });
  const progress = await waitFor(
    () => getBatchProgress(h.db, shop, batchId),
    (p) => p?.counts.NEEDS_REVIEW === count,
    "every image held for review",
  );
  return { shop, batchId, originals, items: progress!.items };
}

describe("bulk approve and reject of held images", () => {
  it("approves the selection, refuses only the image rejected meanwhile (409) and charges each published image once", async () => {
    const { shop, batchId, originals, items } = await heldBatch(5);
    const [a, b, c, d, e] = items;
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 0, reserved: 15 });

    // Another tab rejected c after the merchant selected it.
    await rejectItem({ db: h.db }, shop, c!.id);
    // Two approvals of the same selection at once (a double submit): both answer, each image is queued once.
    const [first, second] = await Promise.all([
      review(shop, batchId, "approve", [a!.id, b!.id, c!.id]),
      review(shop, batchId, "approve", [a!.id, b!.id]),
    ]);
    expect(first.status).toBe(200);
    expect(first.body.outcomes).toEqual([
      { id: a!.id, ok: true },
      { id: b!.id, ok: true },
      {
        id: c!.id,
        ok: false,
        status: 409,
        error: "Only images waiting for review can be approved.",
        errorCode: "approveWrongState",
        errorParams: {},
      },
    ]);
    expect(second.body.outcomes?.every((o) => o.ok)).toBe(true);

    // Approve and reject of d race: exactly one wins, the other is told d changed.
    const [approveD, rejectD] = await Promise.all([review(shop, batchId, "approve", [d!.id]), review(shop, batchId, "reject", [d!.id])]);
    const dOutcomes = [approveD.body.outcomes![0]!, rejectD.body.outcomes![0]!];
    expect(dOutcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(dOutcomes.filter((o) => !o.ok)).toEqual([expect.objectContaining({ ok: false, status: 409 })]);
    const dApproved = approveD.body.outcomes![0]!.ok;

    // Reject e through the bulk route.
    const rejected = await review(shop, batchId, "reject", [e!.id]);
    expect(rejected.body.outcomes).toEqual([{ id: e!.id, ok: true }]);

    await h.waitForBatch(shop, batchId);
    const final = (await getBatchProgress(h.db, shop, batchId))!;
    const stateOf = (id: string) => final.items.find((i) => i.id === id)!.state;
    expect([a, b, c, d, e].map((i) => stateOf(i!.id))).toEqual([
      "PUBLISHED",
      "PUBLISHED",
      "REJECTED",
      dApproved ? "PUBLISHED" : "REJECTED",
      "REJECTED",
    ]);
    const published = dApproved ? 3 : 2;
    expect(await captures(shop)).toBe(published);
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 15 - 3 * published, reserved: 0 });
    expect(final.batch.creditsUsed).toBe(3 * published);
    // The rejected images kept their originals.
    const now = mediaById(h.shopify, shop);
    for (const item of [c, e]) expect(now.get(item!.mediaId)!.sha256).toBe(originals.get(item!.mediaId)!.sha256);
    expect(now.get(a!.mediaId)!.sha256).not.toBe(originals.get(a!.mediaId)!.sha256);
  }, 180_000);

  it("answers 404 for another shop's batch or items, and refuses an empty selection", async () => {
    const { shop, batchId, items } = await heldBatch(2);
    const other = await h.addShop({ products: 1, imagesPerProduct: 1, credits: 0 });
    const foreign = await review(other, batchId, "approve", [items[0]!.id]);
    expect(foreign).toEqual({
      status: 404,
      body: { ok: false, error: "This batch was not found.", errorCode: "batchNotFound", errorParams: {} },
    });

    // An id of this shop's other batch (or of no batch) is refused alone.
    const mixed = await review(shop, batchId, "reject", [items[0]!.id, "00000000-0000-0000-0000-000000000000"]);
    expect(mixed.body.outcomes).toEqual([
      { id: items[0]!.id, ok: true },
      {
        id: "00000000-0000-0000-0000-000000000000",
        ok: false,
        status: 404,
        error: "This image is not in this batch.",
        errorCode: "itemNotInBatch",
        errorParams: {},
      },
    ]);
    expect(await review(shop, batchId, "approve", [])).toMatchObject({ status: 400, body: { errorCode: "reviewNoSelection" } });
    expect((await review(shop, batchId, "publish", [items[1]!.id])).status).toBe(400);
    expect((await getBatchProgress(h.db, shop, batchId))!.items.find((i) => i.id === items[1]!.id)!.state).toBe("NEEDS_REVIEW");
    expect(await getBalance(h.db, shop)).toMatchObject({ available: 3, reserved: 3 });
  }, 120_000);
});
