/**
 * Rows the tests start from: a shop, its offline session, a batch and its items, each with the columns
 * prisma/schema.prisma requires filled in and anything a test cares about passed as an override.
 */
import { randomUUID } from "node:crypto";
import type { Batch, BatchItem, Prisma, Session, Shop } from "@prisma/client";

/** A client or a transaction's client: factories also write inside a test's own transaction. */
type Db = Prisma.TransactionClient;

/** A shop domain no other test (or earlier run against the same database) uses: `<prefix>-<8 hex>.myshopify.com`. */
export function uniqueShopDomain(prefix = "shop"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}.myshopify.com`;
}

/** The Shop row with these columns; an existing one (a reinstall) is updated to them. */
export function createShop(db: Db, overrides: Partial<Prisma.ShopUncheckedCreateInput> = {}): Promise<Shop> {
  const { domain = uniqueShopDomain(), ...columns } = overrides;
  return db.shop.upsert({ where: { domain }, create: { domain, ...columns }, update: columns });
}

/**
 * The offline session Shopify's token exchange would have stored (so none happens), and the shop's row if it has none.
 * Storing it again replaces the session, as a new token exchange does.
 */
export async function createOfflineSession(
  db: Db,
  shop: string,
  overrides: Partial<Prisma.SessionUncheckedCreateInput> = {},
): Promise<Session> {
  const data = {
    id: `offline_${shop}`,
    shop,
    state: "",
    isOnline: false,
    scope: process.env.SCOPES ?? "",
    accessToken: `shpat_${randomUUID().replace(/-/g, "")}`,
    ...overrides,
  };
  const session = await db.session.upsert({ where: { id: data.id }, create: data, update: data });
  await createShop(db, { domain: shop });
  return session;
}

/** A batch of the shop's on the Amazon pipeline, no settings; `total` (images asked for) is 0 unless given. */
export function createBatch(db: Db, shop: string, overrides: Partial<Omit<Prisma.BatchUncheckedCreateInput, "shop">> = {}): Promise<Batch> {
  return db.batch.create({ data: { pipeline: "amazon", settings: {}, total: 0, ...overrides, shop } });
}

export type ItemSpec = Partial<Omit<Prisma.BatchItemUncheckedCreateInput, "batchId" | "shop">>;

/**
 * One item of the batch per spec, returned in the specs' order. Unless a spec says otherwise, the n-th (from 0) is a
 * QUEUED image at position n of product n + 1, with a media id no other item has.
 */
export async function createItems(db: Db, batch: Pick<Batch, "id" | "shop">, specs: ItemSpec[]): Promise<BatchItem[]> {
  const data = specs.map((spec, index) => {
    const position = spec.position ?? index;
    return {
      id: randomUUID(),
      productId: `gid://shopify/Product/${position + 1}`,
      productTitle: `Product ${position + 1}`,
      mediaId: `gid://shopify/MediaImage/${randomUUID().slice(0, 8)}`,
      sourceUrl: `https://cdn.shopify.com/s/files/1/${position}.jpg`,
      position,
      ...spec,
      batchId: batch.id,
      shop: batch.shop,
    };
  });
  const created = new Map((await db.batchItem.createManyAndReturn({ data })).map((item) => [item.id, item]));
  return data.map((row) => created.get(row.id)!);
}
