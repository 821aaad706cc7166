import { createHash, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import prisma from "~/db.server";
import { sumEntries } from "~/models/credit-ledger.server";
import { hashShop, redactedShopPseudonym, wasShopRedacted } from "~/models/lifecycle.server";
import { getQueue } from "~/queue/queue.server";
import { action as scopesUpdate } from "~/routes/webhooks.app.scopes_update";
import { action as uninstalled } from "~/routes/webhooks.app.uninstalled";
import { action as customersDataRequest } from "~/routes/webhooks.customers.data_request";
import { action as customersRedact } from "~/routes/webhooks.customers.redact";
import { action as shopRedact } from "~/routes/webhooks.shop.redact";
import { buyCredits, deliver, installShop, seedBatch, isolatedQueueForFile, webhookRequest } from "./helpers";
import { uniqueShopDomain } from "../../factories";

const queueName = isolatedQueueForFile();

/** Every row, in every table of the schema, whose text mentions the shop. */
async function rowsNaming(shop: string): Promise<Array<{ table: string; count: number }>> {
  const tables = await prisma.$queryRaw<Array<{ table_name: string }>>`
    SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
  const found: Array<{ table: string; count: number }> = [];
  for (const { table_name: table } of tables) {
    const quoted = `"${table.replace(/"/g, '""')}"`;
    const [row] = await prisma.$queryRawUnsafe<Array<{ count: bigint }>>(
      `SELECT count(*) AS count FROM ${quoted} t WHERE position($1 in lower(row_to_json(t)::text)) > 0`,
      shop.toLowerCase(),
    );
    const count = Number(row?.count ?? 0);
    if (count > 0) found.push({ table, count });
  }
  return found;
}

describe("app/scopes_update", () => {
  it("stores the newly granted scopes on the shop's session", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const request = webhookRequest("/webhooks/app/scopes_update", {
      topic: "app/scopes_update",
      shop,
      payload: {
        id: 1,
        previous: ["read_products"],
        current: ["read_products", "write_products", "write_files", "read_locales"],
        updated_at: new Date().toISOString(),
      },
    });
    expect(await deliver(scopesUpdate, request)).toBe(200);
    expect((await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } })).scope).toBe(
      "read_products,write_products,write_files,read_locales",
    );
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).scopes).toBe(
      "read_products,write_products,write_files,read_locales",
    );
  });
});

describe("customers/data_request and customers/redact", () => {
  it("acknowledge with 200 and record the handling without naming the customer or the shop", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const customer = { id: 191167, email: "john@example.com", phone: "555-625-1199" };
    const dataRequest = webhookRequest("/webhooks/customers/data_request", {
      topic: "customers/data_request",
      shop,
      payload: { shop_id: 954889, shop_domain: shop, orders_requested: [299938], customer, data_request: { id: 9999 } },
    });
    const redact = webhookRequest("/webhooks/customers/redact", {
      topic: "customers/redact",
      shop,
      payload: { shop_id: 954889, shop_domain: shop, customer, orders_to_redact: [299938] },
    });
    expect(await deliver(customersDataRequest, dataRequest)).toBe(200);
    expect(await deliver(customersRedact, redact)).toBe(200);

    const records = await prisma.complianceRecord.findMany({ where: { shopHash: hashShop(shop) }, orderBy: { handledAt: "asc" } });
    expect(records.map((r) => r.topic)).toEqual(["customers/data_request", "customers/redact"]);
    const everything = JSON.stringify(await prisma.complianceRecord.findMany({ where: { shopHash: hashShop(shop) } }));
    expect(everything).not.toContain(shop);
    expect(everything).not.toContain("john@example.com");
  });
});

describe("shop/redact", () => {
  it("erases every row that names the shop and keeps an anonymous record of the erasure", async () => {
    const shop = uniqueShopDomain();
    const other = uniqueShopDomain();
    const queue = getQueue(queueName);
    for (const s of [shop, other]) {
      await installShop(s);
      await buyCredits(s, 30);
      const { itemIds } = await seedBatch(s, queue, ["PUBLISHED", "QUEUED"]);
      await prisma.imageBackup.create({
        data: {
          shop: s,
          mediaId: `gid://shopify/MediaImage/${randomUUID().slice(0, 8)}`,
          productId: "gid://shopify/Product/1",
          originalUrl: `https://cdn.shopify.com/${s}/a.jpg`,
        },
      });
      await prisma.storedImage.create({
        data: { shop: s, cacheKey: `${itemIds[0]}:amazon`, mimeType: "image/png", width: 1, height: 1, bytes: Buffer.from([1]) },
      });
    }
    expect(await deliver(uninstalled, webhookRequest("/webhooks/app/uninstalled", { topic: "app/uninstalled", shop, payload: {} }))).toBe(
      200,
    );
    expect((await rowsNaming(shop)).length).toBeGreaterThan(5);

    const redact = webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_id: 954889, shop_domain: shop } });
    expect(await deliver(shopRedact, redact)).toBe(200);

    expect(await rowsNaming(shop)).toEqual([]);
    expect(await wasShopRedacted(prisma, shop)).toBe(true);
    const jobs = await queue.getJobs(["waiting", "delayed", "failed", "completed", "prioritized"]);
    expect(jobs.filter((job) => job?.data.shop === shop)).toEqual([]);
    // The other shop is untouched.
    expect((await rowsNaming(other)).map((r) => r.table)).toEqual(
      expect.arrayContaining([
        "Session",
        "Shop",
        "Batch",
        "BatchItem",
        "CreditEntry",
        "CreditAccount",
        "Purchase",
        "ImageBackup",
        "StoredImage",
      ]),
    );
  });

  it("keeps the shop's purchases and credit ledger for accounting, under a pseudonym that does not name it", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const purchaseId = await buyCredits(shop, 30);
    await seedBatch(shop, getQueue(queueName), ["PUBLISHED"]);
    const ledgerBefore = await prisma.creditEntry.findMany({ where: { shop }, orderBy: { createdAt: "asc" } });
    const accountBefore = await prisma.creditAccount.findUniqueOrThrow({ where: { shop } });
    await prisma.session.deleteMany({ where: { shop } });
    await prisma.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });

    const redact = webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_id: 1, shop_domain: shop } });
    expect(await deliver(shopRedact, redact)).toBe(200);
    expect(await rowsNaming(shop)).toEqual([]);

    const pseudonym = redactedShopPseudonym(shop);
    expect(pseudonym).not.toContain(shop.split(".")[0]);
    const purchase = await prisma.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
    expect(purchase).toMatchObject({ shop: pseudonym, credits: 30, amountCents: 999, status: "ACTIVE" });
    const ledgerAfter = await prisma.creditEntry.findMany({ where: { shop: pseudonym }, orderBy: { createdAt: "asc" } });
    expect(ledgerAfter.map((e) => [e.id, e.kind, e.availableDelta, e.reservedDelta])).toEqual(
      ledgerBefore.map((e) => [e.id, e.kind, e.availableDelta, e.reservedDelta]),
    );
    const accountAfter = await prisma.creditAccount.findUniqueOrThrow({ where: { shop: pseudonym } });
    expect(accountAfter).toMatchObject({ available: accountBefore.available, reserved: 0 });
    expect(sumEntries(ledgerAfter)).toMatchObject({ available: accountAfter.available, reserved: accountAfter.reserved });
  });

  it("answers 200 again when the redaction is delivered twice or after the data is gone", async () => {
    const shop = uniqueShopDomain();
    const webhookId = randomUUID();
    const redact = () => webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, webhookId, payload: { shop_domain: shop } });
    expect(await deliver(shopRedact, redact())).toBe(200);
    expect(await deliver(shopRedact, redact())).toBe(200);
    expect(await prisma.complianceRecord.count({ where: { shopHash: hashShop(shop), topic: "shop/redact" } })).toBe(1);
    expect(await rowsNaming(shop)).toEqual([]);
  });

  it("does not erase a shop that installed the app again", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    await buyCredits(shop, 30);
    const redact = webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_domain: shop } });
    expect(await deliver(shopRedact, redact)).toBe(200);
    expect(await prisma.purchase.count({ where: { shop } })).toBe(1);
    expect(await prisma.session.count({ where: { shop } })).toBe(1);
  });

  it("refuses a body that names a different shop than the signed header", async () => {
    const shop = uniqueShopDomain();
    const victim = uniqueShopDomain();
    await installShop(victim);
    await prisma.session.deleteMany({ where: { shop: victim } });
    const redact = webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_domain: victim } });
    expect(await deliver(shopRedact, redact)).toBe(400);
    expect(await prisma.shop.count({ where: { domain: victim } })).toBe(1);
  });
});

describe("every Shopify webhook delivery", () => {
  const dataRequest = (shop: string, headers: Record<string, string | null>, payloadShop = shop) =>
    webhookRequest("/webhooks/customers/data_request", {
      topic: "customers/data_request",
      shop,
      payload: { shop_id: 1, shop_domain: payloadShop, orders_requested: [], customer: { id: 1 }, data_request: { id: 2 } },
      headers,
    });
  const records = async (shop: string) => prisma.complianceRecord.count({ where: { shopHash: hashShop(shop) } });

  it("is handled once per event, even when Shopify delivers one event under two webhook ids", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const eventId = randomUUID();
    expect(await deliver(customersDataRequest, dataRequest(shop, { "X-Shopify-Event-Id": eventId }))).toBe(200);
    expect(await deliver(customersDataRequest, dataRequest(shop, { "X-Shopify-Event-Id": eventId }))).toBe(200);
    expect(await records(shop)).toBe(1);
    expect(await deliver(customersDataRequest, dataRequest(shop, { "X-Shopify-Event-Id": randomUUID() }))).toBe(200);
    expect(await records(shop)).toBe(2);
  });

  it("is refused when it was triggered more than two days ago (a replay), and handled when it is a day old", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3600_000).toISOString();
    expect(await deliver(customersDataRequest, dataRequest(shop, { "X-Shopify-Triggered-At": at(49) }))).toBe(400);
    expect(await records(shop)).toBe(0);
    expect(await deliver(customersDataRequest, dataRequest(shop, { "X-Shopify-Triggered-At": at(24) }))).toBe(200);
    expect(await records(shop)).toBe(1);
  });

  it("is refused when its payload names another shop than the signed header, on every topic that names one", async () => {
    const shop = uniqueShopDomain();
    const other = uniqueShopDomain();
    await installShop(shop);
    await installShop(other);
    expect(await deliver(customersDataRequest, dataRequest(shop, {}, other))).toBe(400);
    const redact = webhookRequest("/webhooks/customers/redact", {
      topic: "customers/redact",
      shop,
      payload: { shop_id: 1, shop_domain: other, customer: { id: 1 }, orders_to_redact: [] },
    });
    expect(await deliver(customersRedact, redact)).toBe(400);
    const uninstall = webhookRequest("/webhooks/app/uninstalled", {
      topic: "app/uninstalled",
      shop,
      payload: { id: 1, name: "Other", domain: "other.example", myshopify_domain: other },
    });
    expect(await deliver(uninstalled, uninstall)).toBe(400);
    expect(await records(shop)).toBe(0);
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).toBeNull();
  });
});

describe("the record of an erasure", () => {
  it("cannot be matched to the shop by hashing a list of shop domains, yet recognises the shop coming back", async () => {
    const shop = uniqueShopDomain();
    await installShop(shop);
    await prisma.session.deleteMany({ where: { shop } });
    await prisma.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });
    const request = webhookRequest("/webhooks/shop/redact", { topic: "shop/redact", shop, payload: { shop_id: 1, shop_domain: shop } });
    expect(await deliver(shopRedact, request)).toBe(200);
    const plain = createHash("sha256").update(shop).digest("hex");
    expect(await prisma.complianceRecord.count({ where: { shopHash: plain } })).toBe(0);
    expect(await prisma.complianceRecord.count({ where: { shopHash: hashShop(shop), topic: "shop/redact" } })).toBe(1);
    expect(await wasShopRedacted(prisma, shop)).toBe(true);
  });

  it("still recognises a shop erased before the hash was keyed", async () => {
    const shop = uniqueShopDomain();
    await prisma.complianceRecord.create({ data: { topic: "shop/redact", shopHash: createHash("sha256").update(shop).digest("hex") } });
    expect(await wasShopRedacted(prisma, shop)).toBe(true);
    expect(await wasShopRedacted(prisma, uniqueShopDomain())).toBe(false);
  });
});
