/**
 * Issue 17: a whole-catalogue run limited to a collection reads (bulk operation) and counts only that collection's
 * images, custom or smart, and a collection another shop owns or that was deleted is refused before anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advanceCatalogRun, getCatalogRun, listCollections, startCatalogRun, type CatalogRunView } from "~/models/catalog-runs.server";
import { RunAgainLater } from "~/models/work-queues.server";
import { closeAutomationQueues, getAutomationQueue } from "~/queue/automation.server";
import { loader as collectionsLoader } from "~/routes/app.catalog.collections";
import { offlineAdmin, startHarness, type Harness } from "../batches/harness";
import { bearerRequest, body, call } from "../routes/helpers";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await getAutomationQueue(h.queueName)
    .obliterate({ force: true })
    .catch(() => undefined);
  await closeAutomationQueues();
  await h?.close();
});

/** Runs the run's job steps in-process until it has counted. */
async function counted(shop: string, runId: string): Promise<CatalogRunView> {
  const deps = { db: h.db, adminFor: offlineAdmin, imageQueue: h.queue };
  for (let step = 0; step < 200; step++) {
    try {
      await advanceCatalogRun(deps, shop, runId);
    } catch (error) {
      if (!(error instanceof RunAgainLater)) throw error;
    }
    const run = (await getCatalogRun(h.db, shop, runId))!;
    if (run.status !== "COUNTING") return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the run did not finish counting");
}

describe("a whole-catalogue run of one collection", () => {
  it("counts only the collection's images, custom or smart, and names the collection", async () => {
    const shop = await h.addShop({ products: 12, imagesPerProduct: 2, credits: 0 });
    const products = h.shopify.products(shop);
    const picked = [products[1]!, products[4]!, products[9]!];
    const summer = h.shopify.addCollection(shop, { title: "Summer picks", productIds: picked.map((p) => p.id) });
    const graphql = await offlineAdmin(shop);
    const automationQueue = getAutomationQueue(h.queueName);

    // The picker lists the store's collections by title, with their sizes: the seeded smart ones and the new one.
    const collections = await listCollections(graphql);
    expect(collections).toContainEqual({ id: summer, title: "Summer picks", products: 3 });
    expect(collections.map((c) => c.title)).toEqual([...collections.map((c) => c.title)].sort((a, b) => a.localeCompare(b)));
    const smart = collections.find((c) => c.id !== summer)!;
    // The page asks for them only when the merchant picks "a collection" (the page itself polls while a run works).
    expect(await body(await call(collectionsLoader, await bearerRequest(shop, "/app/catalog/collections")))).toEqual({ collections });

    const started = await startCatalogRun({ db: h.db, automationQueue, graphql }, shop, {
      filterKind: "collection",
      filterValue: summer,
      pipeline: "amazon",
    });
    if (!started.ok) throw new Error(JSON.stringify(started.errors));
    const run = await counted(shop, started.runId);
    expect(run).toMatchObject({
      status: "READY",
      total: 6,
      cost: 18,
      filter: { kind: "collection", value: summer, label: "Summer picks" },
    });
    const counting = await h.db.catalogRunImage.findMany({ where: { runId: started.runId }, select: { productId: true } });
    expect(new Set(counting.map((i) => i.productId))).toEqual(new Set(picked.map((p) => p.id)));
    await h.db.catalogRun.update({ where: { id: started.runId }, data: { status: "CANCELLED" } });

    const bySmart = await startCatalogRun({ db: h.db, automationQueue, graphql }, shop, {
      filterKind: "collection",
      filterValue: smart.id,
      pipeline: "amazon",
    });
    if (!bySmart.ok) throw new Error(JSON.stringify(bySmart.errors));
    expect(await counted(shop, bySmart.runId)).toMatchObject({ status: "READY", total: smart.products * 2 });
  });

  it("refuses a collection that is not the shop's, or no collection at all, saying what to do", async () => {
    const shop = await h.addShop({ products: 2, imagesPerProduct: 1, credits: 0 });
    const other = await h.addShop({ products: 2, imagesPerProduct: 1, credits: 0 });
    const theirs = h.shopify.addCollection(other, { title: "Theirs", productIds: h.shopify.products(other).map((p) => p.id) });
    const deps = { db: h.db, automationQueue: getAutomationQueue(h.queueName), graphql: await offlineAdmin(shop) };

    expect(await startCatalogRun(deps, shop, { filterKind: "collection", filterValue: theirs, pipeline: "amazon" })).toEqual({
      ok: false,
      errors: { filterValue: "This collection no longer exists. Reload the page and choose another." },
    });
    expect(await startCatalogRun(deps, shop, { filterKind: "collection", filterValue: "", pipeline: "amazon" })).toEqual({
      ok: false,
      errors: { filterValue: "Choose a collection." },
    });
    expect(await h.db.catalogRun.count({ where: { shop } })).toBe(0);
  });
});
