import { describe, expect, it } from "vitest";
import db from "~/db.server";
import { batchCreditLines, creditActivity } from "~/models/credit-history.server";
import { captureForItem, releaseUnusedReservations, reserveForItems } from "~/models/credit-reservations.server";
import { grantCredits, reverseCreditsInTransaction } from "~/models/credit-ledger.server";
import { i18nFor } from "~/i18n/locales";
import { createBatch, createItems, uniqueShopDomain } from "../../factories";

/** A batch of `n` images with 3 credits held for each; `charged` are captured and `returned` released. */
async function batch(shop: string, n: number, outcome: { charged: number; returned: number }) {
  const created = await createBatch(db, shop, { pipeline: "ebay", total: n });
  // Shopify's media positions start at 1.
  const specs = Array.from({ length: n }, (_, i) => ({
    productId: "gid://shopify/Product/1",
    productTitle: `Shirt ${i + 1}`,
    position: i + 1,
  }));
  const itemIds = (await createItems(db, created, specs)).map((item) => item.id);
  await reserveForItems(db, shop, itemIds, 3);
  for (const id of itemIds.slice(0, outcome.charged)) await captureForItem(db, shop, id);
  await releaseUnusedReservations(db, shop, itemIds.slice(outcome.charged, outcome.charged + outcome.returned), {
    text: "failed",
    message: { code: "noteReturnedBatchNotCreated", params: {} },
  });
  return { batchId: created.id, itemIds };
}

describe("credit history", () => {
  it("words each entry's note in the viewer's language, and an entry from before notes had codes in English", async () => {
    const shop = uniqueShopDomain();
    await db.creditEntry.create({
      data: { shop, kind: "GRANT", availableDelta: 5, reservedDelta: 0, idempotencyKey: "legacy", note: "Goodwill credits" },
    });
    await db.creditAccount.create({ data: { shop, available: 5, reserved: 0 } });
    await grantCredits(db, shop, 100, {
      kind: "PURCHASE",
      idempotencyKey: "pack-1",
      note: "Pro pack: 100 credits",
      noteMessage: { code: "notePackGranted", params: { pack: "Pro", count: 100 } },
    });
    await db.$transaction((tx) =>
      reverseCreditsInTransaction(tx, shop, 120, {
        idempotencyKey: "refund-1",
        note: "Pro pack refunded: 120 credits taken back",
        noteMessage: (owed) => ({ code: "noteRefundTakenBackOwed", params: { pack: "Pro", count: 120, owed } }),
      }),
    );
    // The next grant pays what is owed first, and says so.
    await grantCredits(db, shop, 30, { kind: "GRANT", idempotencyKey: "grant-1" });

    const { lines } = await creditActivity(db, shop);
    const spanish = i18nFor("es").t;
    const said = lines.map((line) =>
      line.noteMessage ? spanish(`messages.${line.noteMessage.code}`, line.noteMessage.params) : line.note,
    );
    expect(said).toEqual([
      "30 créditos añadidos (con 15 se pagó lo que se debía)",
      "Paquete Pro reembolsado: se retiraron 120 créditos (se deben 15)",
      "Paquete Pro: 100 créditos",
      "Goodwill credits",
    ]);
  });

  it("shows one line per batch, summing its images' holds, charges and returns, and one per pack or grant", async () => {
    const shop = uniqueShopDomain();
    await grantCredits(db, shop, 100, { kind: "PURCHASE", idempotencyKey: "pack-1", note: "Pro pack: 100 credits" });
    const first = await batch(shop, 5, { charged: 3, returned: 1 }); // one image still being worked on
    const second = await batch(shop, 2, { charged: 2, returned: 0 });

    const { lines, nextCursor } = await creditActivity(db, shop);
    expect(nextCursor).toBeNull();
    expect(lines.map((l) => l.key)).toEqual([`batch:${second.batchId}`, `batch:${first.batchId}`, expect.stringMatching(/^entry:/)]);
    expect(lines[1]).toMatchObject({
      available: -15 + 3,
      held: 3,
      batch: { id: first.batchId, pipeline: "ebay", images: 5, charged: 9, returned: 3, held: 3 },
    });
    expect(lines[0]).toMatchObject({ available: -6, held: 0, batch: { images: 2, charged: 6, returned: 0 } });
    expect(lines[2]).toMatchObject({ kind: "PURCHASE", available: 100, note: "Pro pack: 100 credits", batch: null });
    // The lines add up to the balance, as the entries do.
    expect(lines.reduce((sum, l) => sum + l.available, 0)).toBe(100 - 15 + 3 - 6);

    const opened = await batchCreditLines(db, shop, first.batchId);
    expect(opened.map((l) => [l.productTitle, l.position, l.charged, l.returned, l.held])).toEqual([
      ["Shirt 1", 1, 3, 0, 0],
      ["Shirt 2", 2, 3, 0, 0],
      ["Shirt 3", 3, 3, 0, 0],
      ["Shirt 4", 4, 0, 3, 0],
      ["Shirt 5", 5, 0, 0, 3],
    ]);
    // Another shop sees none of it.
    expect(await batchCreditLines(db, uniqueShopDomain(), first.batchId)).toEqual([]);
    expect((await creditActivity(db, uniqueShopDomain())).lines).toEqual([]);
  });

  it("pages through lines newest first without repeating or skipping one", async () => {
    const shop = uniqueShopDomain();
    for (let i = 0; i < 3; i++) await grantCredits(db, shop, 10, { kind: "GRANT", idempotencyKey: `grant-${i}` });
    for (let i = 0; i < 3; i++) await batch(shop, 2, { charged: 1, returned: 1 });
    const all = (await creditActivity(db, shop, { take: 100 })).lines.map((l) => l.key);
    expect(all).toHaveLength(6);
    const paged: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await creditActivity(db, shop, { take: 4, cursor });
      paged.push(...page.lines.map((l) => l.key));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(all);
  });
});
