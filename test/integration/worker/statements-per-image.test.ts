// How many SQL statements the worker sends PostgreSQL per published image. Each costs the worker about 1.7 ms of CPU
// in Prisma's client engine (issue #15), so a change that adds reads to the image path shows up here. Counted at the
// pg driver, under both of the worker's database clients (its own and the app's, which holds the offline sessions);
// nothing else in this file talks to PostgreSQL while the worker runs (the test waits on the queue, in Redis).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, submitAllImages, type Harness } from "../batches/harness";

/** What the path takes now (16, BEGIN and COMMIT counted; 44.7 before issue #15) and one more. */
const BUDGET_PER_IMAGE = 17;
const IMAGES = 3;

let h: Harness;
const sent: string[] = [];
let counting = false;
const query = pg.Client.prototype.query;

beforeAll(async () => {
  h = await startHarness();
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counting) {
      const [first] = args;
      sent.push(typeof first === "string" ? first : String((first as { text?: string } | undefined)?.text));
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
});
afterAll(async () => {
  pg.Client.prototype.query = query;
  await h?.close();
});

/** Jobs not yet finished (completed ones are removed from the queue). */
async function unfinishedJobs(): Promise<number> {
  const counts = await h.queue.getJobCounts("active", "waiting", "prioritized", "delayed");
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

describe("the worker's statements per image", () => {
  it(`stays within ${BUDGET_PER_IMAGE} per published image`, async () => {
    const shop = await h.addShop({ products: IMAGES, imagesPerProduct: 1, credits: 30 });
    const batchId = await submitAllImages(h, shop);

    counting = true;
    h.startInProcessWorker({ concurrency: 2 });
    const deadline = Date.now() + 50_000;
    while ((await unfinishedJobs()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    counting = false;

    const items = await h.db.batchItem.findMany({ where: { shop, batchId }, select: { state: true, reason: true } });
    expect(items.map((item) => item.state)).toEqual(Array(IMAGES).fill("PUBLISHED"));
    const perImage = sent.length / IMAGES;
    console.log(`worker SQL statements: ${sent.length} for ${IMAGES} published images, ${perImage.toFixed(1)} per image`);
    if (process.env.PRINT_STATEMENTS) console.log(sent.join("\n"));
    expect(perImage).toBeLessThanOrEqual(BUDGET_PER_IMAGE);
    // Nor an Admin API request: only a shop Shopify was seen refusing (frozen, locked) is asked whether it answers.
    expect(h.shopify.graphqlLog(shop).filter((entry) => entry.operationName === "ShopAvailability")).toEqual([]);
  });
});
