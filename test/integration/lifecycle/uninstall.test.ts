import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { getBalance, WELCOME_CREDITS } from "~/models/credit-ledger.server";
import { getQueue } from "~/queue/queue.server";
import { action as uninstalled } from "~/routes/webhooks.app.uninstalled";
import { buyCredits, deliver, installShop, seedBatch, isolatedQueueForFile, webhookRequest } from "./helpers";
import { createBatch, createItems, uniqueShopDomain } from "../../factories";

const PATH = "/webhooks/app/uninstalled";
const queueName = isolatedQueueForFile();

function uninstall(shop: string, webhookId = randomUUID()): Request {
  return webhookRequest(PATH, { topic: "app/uninstalled", shop, payload: { domain: shop }, webhookId });
}

describe("app/uninstalled", () => {
  it("cancels queued and in-flight images mid-batch and gives their credits back, keeping what was spent", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    await buyCredits(shop, 30);
    const queue = getQueue(queueName);
    const { itemIds } = await seedBatch(shop, queue, ["PUBLISHED", "PROCESSING", "QUEUED", "QUEUED"]);
    const [published, processing, ...queued] = itemIds;
    expect(await getBalance(prisma, shop)).toMatchObject({ reserved: 9, total: WELCOME_CREDITS + 30 - 3 });
    expect(await queue.getJob(queued[0]!)).toBeDefined();

    expect(await deliver(uninstalled, uninstall(shop))).toBe(200);

    const items = await prisma.batchItem.findMany({ where: { shop }, select: { id: true, state: true } });
    const stateOf = (id: string) => items.find((item) => item.id === id)?.state;
    expect(stateOf(published!)).toBe("PUBLISHED");
    expect(stateOf(processing!)).toBe("CANCELLED");
    for (const id of queued) expect(stateOf(id)).toBe("CANCELLED");
    expect(await getBalance(prisma, shop)).toEqual({ available: WELCOME_CREDITS + 30 - 3, reserved: 0, total: WELCOME_CREDITS + 30 - 3 });
    for (const id of queued) expect(await queue.getJob(id)).toBeUndefined();
    expect(await prisma.session.count({ where: { shop } })).toBe(0);
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).toBeInstanceOf(Date);
    expect(await prisma.batch.findFirstOrThrow({ where: { shop } })).toMatchObject({ status: "CANCELLED" });
  });

  // Automatic work adds items under a lock on the shop's row (addFundedItems). The mark was stamped before the uninstall
  // waited for that lock, so items added while it waited were stamped later than the mark: they looked added after it.
  it("stamps the shop uninstalled after every item an automatic job was adding as it arrived", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    let holding!: () => void;
    const lockHeld = new Promise<void>((resolve) => (holding = resolve));
    const adding = prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM "Shop" WHERE domain = ${shop} FOR UPDATE`;
      holding();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await createItems(tx, await createBatch(tx, shop, { total: 1 }), [{}]);
    });
    await lockHeld;
    const delivered = deliver(uninstalled, uninstall(shop));
    await adding;
    expect(await delivered).toBe(200);

    const { uninstalledAt } = await prisma.shop.findUniqueOrThrow({ where: { domain: shop } });
    const items = await prisma.batchItem.findMany({ where: { shop }, select: { createdAt: true, state: true } });
    expect(items).toHaveLength(1);
    expect(items[0]!.createdAt.getTime()).toBeLessThanOrEqual(uninstalledAt!.getTime());
    expect(items[0]!.state).toBe("CANCELLED");
  });

  it("treats a second delivery of the same webhook as already handled", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const webhookId = randomUUID();
    expect(await deliver(uninstalled, uninstall(shop, webhookId))).toBe(200);
    const firstUninstalledAt = (await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt;

    expect(await deliver(uninstalled, uninstall(shop, webhookId))).toBe(200);

    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).toEqual(firstUninstalledAt);
    expect(await prisma.webhookEvent.count({ where: { id: webhookId } })).toBe(1);
  });

  it("answers 200 to a new delivery that arrives after the shop's data is gone", async () => {
    const shop = uniqueShopDomain();
    expect(await deliver(uninstalled, uninstall(shop))).toBe(200);
    expect(await prisma.shop.count({ where: { domain: shop } })).toBe(0);
    expect(await prisma.session.count({ where: { shop } })).toBe(0);
  });

  it("keeps purchased credits across a reinstall and does not grant the welcome credits again", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    await buyCredits(shop, 100);
    const before = await getBalance(prisma, shop);
    expect(await deliver(uninstalled, uninstall(shop))).toBe(200);

    await installShop(shop); // what token exchange and its afterAuth do

    expect(await getBalance(prisma, shop)).toEqual(before);
    expect(await prisma.creditEntry.count({ where: { shop, kind: "WELCOME" } })).toBe(1);
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).toBeNull();
  });

  it("ignores an uninstall that was triggered before the shop installed again", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const stale = webhookRequest(PATH, {
      topic: "app/uninstalled",
      shop,
      payload: { domain: shop },
      headers: { "X-Shopify-Triggered-At": new Date(Date.now() - 3_600_000).toISOString() },
    });
    expect(await deliver(uninstalled, stale)).toBe(200);
    expect(await prisma.session.count({ where: { shop } })).toBe(1);
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).toBeNull();
  });
});
