import { afterAll, describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { getBalance, grantCredits } from "~/models/credit-ledger.server";
import { closeAutomationQueues, getAutomationQueue } from "~/queue/automation.server";
import { getQueue } from "~/queue/queue.server";
import { action, loader } from "~/routes/app.catalog/route";
import { isolatedQueueForFile, seedBatch } from "../lifecycle/helpers";
import { body, bearerRequest, call, formRequest, status } from "./helpers";
import { createBatch, createOfflineSession, uniqueShopDomain } from "../../factories";

const queueName = isolatedQueueForFile();
afterAll(async () => {
  await getAutomationQueue(queueName)
    .obliterate({ force: true })
    .catch(() => undefined);
  await closeAutomationQueues();
});

async function readyRun(shop: string, total: number): Promise<string> {
  const run = await prisma.catalogRun.create({
    data: { shop, filter: { kind: "all", onlyUnprocessed: false }, pipeline: "amazon", status: "READY", total },
  });
  return run.id;
}

describe("whole catalogue page", () => {
  it("starts counting a filter and shows the run; a second run waits for the first", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const started = await call(
      action,
      await formRequest(shop, "/app/catalog", {
        intent: "start",
        filterKind: "tag",
        filterValue: "summer",
        onlyUnprocessed: "on",
        pipeline: "ebay",
        budget: "90",
      }),
    );
    expect(status(started)).toBe(200);
    const data = await body<{ runs: Array<Record<string, unknown>> }>(await call(loader, await bearerRequest(shop, "/app/catalog")));
    expect(data.runs).toHaveLength(1);
    expect(data.runs[0]).toMatchObject({
      status: "COUNTING",
      pipeline: "ebay",
      budget: 90,
      filter: { kind: "tag", value: "summer", onlyUnprocessed: true },
    });
    expect(await getAutomationQueue(queueName).getJob(`catalog-run-${data.runs[0]!.id as string}`)).toBeTruthy();
    const again = await call(action, await formRequest(shop, "/app/catalog", { intent: "start", filterKind: "all", pipeline: "amazon" }));
    expect(status(again)).toBe(409);
    expect((await body<{ error: string }>(again)).error).toMatch(/already counting or running/);
  });

  it("answers 422 with what to enter for a tag filter without a tag or a budget below one image", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const result = await call(
      action,
      await formRequest(shop, "/app/catalog", { intent: "start", filterKind: "tag", filterValue: "", pipeline: "amazon", budget: "2" }),
    );
    expect(status(result)).toBe(422);
    const { errors } = await body<{ errors: Record<string, string> }>(result);
    expect(errors).toMatchObject({ filterValue: "Enter the tag.", budget: expect.stringMatching(/from 3 \(one image\)/) });
    const noCollection = await call(
      action,
      await formRequest(shop, "/app/catalog", { intent: "start", filterKind: "collection", filterValue: "summer", pipeline: "amazon" }),
    );
    expect(status(noCollection)).toBe(422);
    expect((await body<{ errors: Record<string, string> }>(noCollection)).errors).toEqual({ filterValue: "Choose a collection." });
    expect(await prisma.catalogRun.count({ where: { shop } })).toBe(0);
  });

  it("shows the count and the cost, starts a confirmed run with its budget, and keeps runs to their shop", async () => {
    const shop = uniqueShopDomain();
    const other = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    await createOfflineSession(prisma, other);
    const runId = await readyRun(shop, 1234);
    const data = await body<{ runs: Array<Record<string, unknown>> }>(await call(loader, await bearerRequest(shop, "/app/catalog")));
    expect(data.runs[0]).toMatchObject({ id: runId, status: "READY", total: 1234, cost: 3702, added: 0 });

    const foreign = await call(action, await formRequest(other, "/app/catalog", { intent: "confirm", runId }));
    expect(status(foreign)).toBe(404);
    const cancelForeign = await call(action, await formRequest(other, "/app/catalog", { intent: "cancel", runId }));
    expect(status(cancelForeign)).toBe(404);

    expect(status(await call(action, await formRequest(shop, "/app/catalog", { intent: "confirm", runId, budget: "300" })))).toBe(200);
    expect(await prisma.catalogRun.findUnique({ where: { id: runId } })).toMatchObject({ status: "RUNNING", budget: 300 });
    expect(status(await call(action, await formRequest(shop, "/app/catalog", { intent: "cancel", runId })))).toBe(200);
    expect(await prisma.catalogRun.findUnique({ where: { id: runId } })).toMatchObject({ status: "CANCELLED" });
  });

  it("clears the pause's note from the batch history when a paused run is resumed", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const batch = await createBatch(prisma, shop, {
      total: 25,
      origin: "CATALOG",
      note: "Paused: this run's budget of 75 credits is used up.",
    });
    const run = await prisma.catalogRun.create({
      data: {
        shop,
        filter: { kind: "all", onlyUnprocessed: false },
        pipeline: "amazon",
        status: "PAUSED",
        total: 100,
        budget: 75,
        batchId: batch.id,
        reason: batch.note,
      },
    });
    expect(status(await call(action, await formRequest(shop, "/app/catalog", { intent: "confirm", runId: run.id, budget: "300" })))).toBe(
      200,
    );
    expect(await prisma.catalogRun.findUnique({ where: { id: run.id } })).toMatchObject({ status: "RUNNING", reason: null, budget: 300 });
    expect(await prisma.batch.findUnique({ where: { id: batch.id } })).toMatchObject({ note: null });
  });

  it("clears a run's budget when the merchant empties the field, as its help text says", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    const run = await prisma.catalogRun.create({
      data: { shop, filter: { kind: "all", onlyUnprocessed: false }, pipeline: "amazon", status: "READY", total: 10, budget: 30 },
    });
    const refused = await call(action, await formRequest(shop, "/app/catalog", { intent: "confirm", runId: run.id, budget: "2" }));
    expect(status(refused)).toBe(422);
    expect((await body<{ error: string }>(refused)).error).toMatch(/from 3 \(one image\)/);
    expect(status(await call(action, await formRequest(shop, "/app/catalog", { intent: "confirm", runId: run.id, budget: "" })))).toBe(200);
    expect(await prisma.catalogRun.findUnique({ where: { id: run.id } })).toMatchObject({ status: "RUNNING", budget: null });
  });

  it("cancels a running run's waiting images, giving their credits back and removing their jobs", async () => {
    const shop = uniqueShopDomain();
    await createOfflineSession(prisma, shop);
    await grantCredits(prisma, shop, 9, { kind: "GRANT", idempotencyKey: "seed" });
    const queue = getQueue(queueName);
    const { batchId, itemIds } = await seedBatch(shop, queue, ["PUBLISHED", "QUEUED", "QUEUED"]);
    expect(await getBalance(prisma, shop)).toEqual({ available: 0, reserved: 6, total: 6 });
    const run = await prisma.catalogRun.create({
      data: { shop, filter: { kind: "all", onlyUnprocessed: false }, pipeline: "amazon", status: "RUNNING", total: 3, batchId },
    });

    expect(status(await call(action, await formRequest(shop, "/app/catalog", { intent: "cancel", runId: run.id })))).toBe(200);
    expect(await prisma.catalogRun.findUnique({ where: { id: run.id } })).toMatchObject({ status: "CANCELLED" });
    const states = await prisma.batchItem.findMany({ where: { batchId }, orderBy: { position: "asc" }, select: { state: true } });
    expect(states.map((i) => i.state)).toEqual(["PUBLISHED", "CANCELLED", "CANCELLED"]);
    expect(await getBalance(prisma, shop)).toEqual({ available: 6, reserved: 0, total: 6 });
    for (const id of itemIds.slice(1)) expect(await queue.getJob(id)).toBeUndefined();
  });
});
