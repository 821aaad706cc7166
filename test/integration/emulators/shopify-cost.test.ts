import { getOperationAST, Kind, parse, type FragmentDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { calculateQueryCost } from "../../../emulators/shopify-admin/cost";
import { loadAdminSchema } from "../../../emulators/shopify-admin/schema";

/** Requested (and, given data, actual) cost of a document, as the stand-in charges it. */
function cost(query: string, variables: Record<string, unknown> = {}, data?: Record<string, unknown> | null): number {
  const document = parse(query);
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
  return calculateQueryCost(loadAdminSchema(), getOperationAST(document)!, fragments, variables, data);
}

describe("Shopify calculated query cost", () => {
  it("charges 1 per object and nothing for scalars and enums", () => {
    expect(cost("query A { shop { id name currencyCode } }")).toBe(1);
    expect(cost("query A { shop { id primaryDomain { host } plan { displayName } } }")).toBe(3);
  });

  it("charges a connection 2 plus first x the cost of one node, nested connections multiplied", () => {
    expect(cost("query A { products(first: 10) { edges { cursor node { id title } } pageInfo { hasNextPage } } }")).toBe(12);
    expect(cost("query A($n: Int) { products(first: $n) { nodes { id } } }", { n: 50 })).toBe(52);
    // Each product: 1 + media connection (2 + 4 x (MediaImage 1 + image 1)).
    expect(
      cost("query A { products(first: 25) { nodes { id media(first: 4) { nodes { ... on MediaImage { id image { url } } } } } } }"),
    ).toBe(2 + 25 * (1 + 2 + 4 * 2));
  });

  it("follows named fragments and takes the most expensive possible type of an interface", () => {
    const query = `
      query A($ids: [ID!]!) { nodes(ids: $ids) { id ...P ... on MediaImage { image { url } } } }
      fragment P on Product { media(first: 5) { nodes { id } } }`;
    // Product (1 + 2 + 5) is dearer than MediaImage (1 + 1); nodes(ids) multiplies by the number of ids.
    expect(cost(query, { ids: ["gid://shopify/Product/1", "gid://shopify/Product/2", "gid://shopify/Product/3"] })).toBe(3 * 8);
  });

  it("charges 10 per mutation whatever the payload selects", () => {
    expect(cost(`mutation M { fileAcknowledgeUpdateFailed(fileIds: []) { files { id } userErrors { message } } }`)).toBe(10);
  });

  it("charges actual cost by the nodes a connection really returned", () => {
    const query = "query A { products(first: 100) { nodes { id media(first: 10) { nodes { id } } } } }";
    expect(cost(query)).toBe(2 + 100 * (1 + 2 + 10));
    const data = {
      products: {
        nodes: [
          { id: "1", media: { nodes: [{ id: "m1" }, { id: "m2" }] } },
          { id: "2", media: { nodes: [] } },
        ],
      },
    };
    expect(cost(query, {}, data)).toBe(2 + (1 + 2 + 2) + (1 + 2));
  });
});
