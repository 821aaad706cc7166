import { randomUUID } from "node:crypto";
import type { Job } from "bullmq";
import { describe, expect, it } from "vitest";
import db from "~/db.server";
import { resumeCatalogRuns } from "~/models/catalog-runs.server";
import { processAutomationJob } from "~/queue/automation-processor.server";
import type { AutomationWork, ImageWork } from "~/models/work-queues.server";
import type { AutomationJobData } from "~/queue/automation.server";
import { createShop, uniqueShopDomain } from "../../factories";

const QUEUE = `catalog-failure-${randomUUID().slice(0, 8)}`;

async function countingRun() {
  const shop = uniqueShopDomain();
  await createShop(db, { domain: shop });
  const run = await db.catalogRun.create({
    data: { shop, filter: { kind: "all", onlyUnprocessed: false, queue: QUEUE }, pipeline: "amazon", status: "COUNTING" },
  });
  return { shop, runId: run.id };
}

/** An attempt of the run's job in which Shopify cannot be reached at all. */
function attempt(shop: string, runId: string, attemptsMade: number) {
  const job = { data: { kind: "catalog-run", shop, runId }, attemptsMade, opts: { attempts: 20 } } as unknown as Job<AutomationJobData>;
  const deps = {
    db,
    adminFor: () => Promise.reject(new Error("connect ECONNREFUSED")),
    imageQueue: { name: "unused" } as ImageWork,
  };
  return processAutomationJob(job, deps);
}

describe("a whole-catalogue run whose job gives up", () => {
  it("stays running while attempts remain, then fails with what to do, and is not resumed for ever", async () => {
    const { shop, runId } = await countingRun();
    await expect(attempt(shop, runId, 3)).rejects.toThrow("ECONNREFUSED");
    expect((await db.catalogRun.findUniqueOrThrow({ where: { id: runId } })).status).toBe("COUNTING");

    await expect(attempt(shop, runId, 19)).rejects.toThrow("ECONNREFUSED");
    const failed = await db.catalogRun.findUniqueOrThrow({ where: { id: runId } });
    expect(failed).toMatchObject({
      status: "FAILED",
      reason: expect.stringMatching(/start a new run/),
      reasonMessage: { code: "catalogRunFailed" },
    });
    expect(failed.finishedAt).not.toBeNull();

    // The workers' resume pass no longer picks it up (it would re-add its job every sweep).
    const added: string[] = [];
    const queue = { name: QUEUE, enqueueCatalogRun: async (_shop: string, id: string) => void added.push(id) } as AutomationWork;
    await resumeCatalogRuns(db, queue);
    expect(added).not.toContain(runId);
  });
});
