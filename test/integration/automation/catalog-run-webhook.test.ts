/**
 * Issue 17, bulk_operations/finish: a whole-catalogue run is counted as soon as Shopify says its bulk operation
 * finished, not at its next poll. The Shopify stand-in sends the signed webhook over HTTP to the app's route; the
 * polling fallback is set to ten minutes here, so a run counted within the test's time was woken by the webhook.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getCatalogRun, startCatalogRun } from "~/models/catalog-runs.server";
import { getAutomationQueue } from "~/queue/automation.server";
import { action as bulkFinish } from "~/routes/webhooks.bulk_operations.finish";
import { offlineAdmin, type Harness } from "../batches/harness";
import { waitFor } from "../wait";
import { startAutomationHarness, type AutomationHarness } from "./automation-harness";

const FINISH_PATH = "/webhooks/bulk_operations/finish";

let h: Harness;
let automation: AutomationHarness;
/** The next delivery of bulk_operations/finish is lost on its way (answered, never reaching the app). */
let loseNextFinish = false;

beforeAll(async () => {
  process.env.CATALOG_BULK_POLL_MS = String(10 * 60_000);
  automation = await startAutomationHarness({
    routes: {
      [FINISH_PATH]: async (args) => {
        if (!loseNextFinish) return bulkFinish(args);
        loseNextFinish = false;
        return new Response(null, { status: 200 });
      },
    },
  });
  h = automation.h;
});

afterEach(() => {
  process.env.CATALOG_BULK_POLL_MS = String(10 * 60_000);
});

afterAll(async () => {
  delete process.env.CATALOG_BULK_POLL_MS;
  await automation?.close();
});

async function startRun(shop: string): Promise<string> {
  const started = await startCatalogRun(
    { db: h.db, automationQueue: getAutomationQueue(h.queueName), graphql: await offlineAdmin(shop) },
    shop,
    {
      filterKind: "all",
      pipeline: "amazon",
    },
  );
  if (!started.ok) throw new Error(JSON.stringify(started.errors));
  return started.runId;
}

const counted = (shop: string, runId: string, timeoutMs = 30_000) =>
  waitFor(
    () => getCatalogRun(h.db, shop, runId),
    (run) => run?.status !== "COUNTING",
    "the catalogue to be counted",
    timeoutMs,
  );

/** How often the run's job read its bulk operation. */
const operationReads = (shop: string) =>
  h.shopify.graphqlLog(shop).filter((entry) => entry.operationName === "CatalogRunBulkOperation").length;

const finishHooks = (shop: string) => h.shopify.sentWebhooks().filter((w) => w.shop === shop && w.topic === "bulk_operations/finish");

describe("bulk_operations/finish", () => {
  it("counts the run as soon as the bulk operation finishes, without waiting for a poll", async () => {
    const shop = await h.addShop({ products: 12, imagesPerProduct: 2, credits: 0 });
    const runId = await startRun(shop);

    expect(await counted(shop, runId)).toMatchObject({ status: "READY", total: 24, cost: 72 });
    // Read once, when the webhook woke it: it never polled.
    expect(operationReads(shop)).toBe(1);
    const [hook] = finishHooks(shop);
    expect(hook?.status).toBe(200);
    const run = await h.db.catalogRun.findUniqueOrThrow({ where: { id: runId } });
    // Shopify's payload: the operation's gid, its times, and status, error code and type in lower case.
    expect(hook?.payload).toEqual({
      admin_graphql_api_id: run.bulkOperationId,
      completed_at: expect.any(String),
      created_at: expect.any(String),
      error_code: null,
      status: "completed",
      type: "query",
    });
  });

  it("replayed ten times at once, advances the run once", async () => {
    const shop = await h.addShop({ products: 5, imagesPerProduct: 2, credits: 0 });
    loseNextFinish = true;
    const runId = await startRun(shop);
    await h.shopify.webhooksDelivered();
    await waitFor(
      () => h.db.catalogRun.findUniqueOrThrow({ where: { id: runId } }),
      (r) => r.bulkOperationId !== null,
      "the bulk operation to start",
    );
    const [lost] = await waitFor(
      async () => finishHooks(shop),
      (hooks) => hooks.length === 1,
      "Shopify to send bulk_operations/finish",
    );
    // The delivery was lost: the run waits for its (ten-minute) poll.
    expect((await getCatalogRun(h.db, shop, runId))!.status).toBe("COUNTING");
    const readsBefore = operationReads(shop);

    // Shopify delivers the same event again, ten times, all at once.
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        h.shopify.sendWebhook({
          topic: "bulk_operations/finish",
          shop,
          path: FINISH_PATH,
          payload: lost!.payload,
          eventId: `finish-${runId}`,
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await counted(shop, runId)).toMatchObject({ status: "READY", total: 10 });
    await waitFor(
      () => getAutomationQueue(h.queueName).getJobCountByTypes("active", "wait", "delayed"),
      (n) => n === 0,
      "the run's job to finish",
    );
    expect(operationReads(shop) - readsBefore).toBe(1);
    expect(await h.db.catalogRunImage.count({ where: { runId } })).toBe(10);
    expect(await h.db.webhookEvent.count({ where: { id: `finish-${runId}` } })).toBe(1);
  });

  it("still counts the run by polling when the webhook is lost", async () => {
    process.env.CATALOG_BULK_POLL_MS = "300";
    const shop = await h.addShop({ products: 3, imagesPerProduct: 1, credits: 0 });
    loseNextFinish = true;
    const runId = await startRun(shop);
    expect(await counted(shop, runId)).toMatchObject({ status: "READY", total: 3 });
    expect(finishHooks(shop)).toHaveLength(1);
  });
});
