import { describe, expect, it } from "vitest";
import { parseAutoRule } from "~/models/auto-rule.server";
import { catalogBulkQuery, parseCatalogRunInput, productSearchFor } from "~/models/catalog-runs.server";
import { flattenBulkResult } from "../../../emulators/shopify-admin/bulk";

describe("catalogue run filters", () => {
  it("writes a tag or product type as one quoted search term, even with quotes and colons", () => {
    expect(productSearchFor({ kind: "all", value: null, onlyUnprocessed: false })).toBeNull();
    expect(productSearchFor({ kind: "tag", value: 'summer "24": sale', onlyUnprocessed: false })).toBe('tag:"summer \\"24\\": sale"');
    expect(productSearchFor({ kind: "productType", value: "Shoe", onlyUnprocessed: true })).toBe('product_type:"Shoe"');
    expect(productSearchFor({ kind: "collection", value: "gid://shopify/Collection/841", onlyUnprocessed: false })).toBe(
      "collection_id:841",
    );
    expect(catalogBulkQuery({ kind: "productType", value: "Shoe", onlyUnprocessed: false })).toContain(
      'products(query: "product_type:\\"Shoe\\"")',
    );
    expect(catalogBulkQuery({ kind: "all", value: null, onlyUnprocessed: false })).toContain('products(query: "")');
  });

  it("refuses a filter without its value and a budget below one image, saying what to enter", () => {
    const result = parseCatalogRunInput({ filterKind: "productType", filterValue: "  ", pipeline: "amazon", budget: "1" });
    expect(result).toEqual({
      ok: false,
      errors: { filterValue: "Enter the product type.", budget: expect.stringMatching(/from 3 \(one image\)/) },
    });
    expect(
      parseCatalogRunInput({ filterKind: "all", filterValue: "ignored", pipeline: "ebay", budget: "", onlyUnprocessed: "on" }),
    ).toEqual({
      ok: true,
      filter: { kind: "all", value: null, onlyUnprocessed: true },
      pipeline: "ebay",
      budget: null,
    });
  });

  it("parses the automatic rule's form", () => {
    expect(
      parseAutoRule({ enabled: "on", pipeline: "instagram", images: "featured", reviewBeforePublish: "", monthlyBudget: "30" }),
    ).toEqual({
      ok: true,
      rule: { enabled: true, pipeline: "instagram", images: "featured", reviewBeforePublish: false, monthlyBudget: 30 },
    });
    const refused = parseAutoRule({ enabled: "on", pipeline: "etsy", images: "all", monthlyBudget: "1.5" });
    expect(refused.ok).toBe(false);
  });
});

describe("Shopify stand-in bulk results", () => {
  it("writes every node of every connection as a JSONL line, children naming their parent", () => {
    const data = {
      products: {
        edges: [
          {
            node: {
              id: "gid://shopify/Product/1",
              title: "A",
              media: { edges: [{ node: { id: "gid://shopify/MediaImage/11", image: { url: "u" } } }] },
            },
          },
          { node: { id: "gid://shopify/Product/2", title: "B", media: { edges: [] } } },
        ],
      },
    };
    const { lines, roots } = flattenBulkResult(data);
    expect(roots).toBe(2);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { id: "gid://shopify/Product/1", title: "A" },
      { id: "gid://shopify/MediaImage/11", image: { url: "u" }, __parentId: "gid://shopify/Product/1" },
      { id: "gid://shopify/Product/2", title: "B" },
    ]);
  });
});
