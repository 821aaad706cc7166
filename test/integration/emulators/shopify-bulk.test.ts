import { describe, expect, it } from "vitest";
import { shopifyStandInForFile } from "../batches/shop-setup";
import { uniqueShopDomain } from "../../factories";

const emulator = shopifyStandInForFile({ apiKey: "bulk-key", apiSecret: "bulk-secret", bulkOperationMs: 1_000 });

async function graphql(shop: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`https://${shop}/admin/api/2026-07/graphql.json`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
    body: JSON.stringify({ query, variables }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (await response.json()) as any;
}

const RUN = `mutation Run($query: String!) { bulkOperationRunQuery(query: $query, groupObjects: false) { bulkOperation { id status } userErrors { field message code } } }`;
const POLL = `query Poll($id: ID!) { bulkOperation(id: $id) { id status objectCount rootObjectCount url errorCode } currentBulkOperation { id status } }`;
const PRODUCTS = `{ products(query: "tag:box") { edges { node { id title media { edges { node { id ... on MediaImage { image { url } } } } } } } } }`;

describe("Shopify stand-in: bulk query operations", () => {
  it("runs a bulk query over the whole catalogue, one at a time per shop, and serves its JSONL", async () => {
    const shop = uniqueShopDomain();
    emulator.addShop(shop, { products: 600, imagesPerProduct: 2 });
    const token = emulator.grantAccessToken(shop);
    const started = await graphql(shop, token, RUN, { query: PRODUCTS });
    expect(started.data.bulkOperationRunQuery.userErrors).toEqual([]);
    const id = started.data.bulkOperationRunQuery.bulkOperation.id as string;
    expect(id).toMatch(/^gid:\/\/shopify\/BulkOperation\/\d+$/);

    const second = await graphql(shop, token, RUN, { query: PRODUCTS });
    expect(second.data.bulkOperationRunQuery.userErrors[0].code).toBe("OPERATION_IN_PROGRESS");

    let op;
    for (let i = 0; i < 200; i++) {
      op = (await graphql(shop, token, POLL, { id })).data;
      if (op.bulkOperation.status === "COMPLETED") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(op.currentBulkOperation).toEqual({ id, status: "COMPLETED" });
    // The seeded catalogue tags every sixth product (from the second) "box": 100 products, 2 images each.
    expect(op.bulkOperation).toMatchObject({ status: "COMPLETED", rootObjectCount: "100", objectCount: "300", errorCode: null });
    const lines = (await (await fetch(op.bulkOperation.url)).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const products = lines.filter((l) => !l.__parentId);
    const media = lines.filter((l) => l.__parentId);
    expect(products).toHaveLength(100);
    expect(media).toHaveLength(200);
    expect(new Set(media.map((m) => m.__parentId))).toEqual(new Set(products.map((p) => p.id)));
    expect(media[0].image.url).toMatch(/\/cdn\/shop\/files\//);
    const invalid = await graphql(shop, token, RUN, { query: "{ products { edges { node { nope } } } }" });
    expect(invalid.data.bulkOperationRunQuery.userErrors[0]).toMatchObject({ code: "INVALID" });
  });
});
