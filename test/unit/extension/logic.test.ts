import { describe, expect, it } from "vitest";
import { PIPELINE_IDS } from "~/imaging/pipelines";
import {
  CREDITS_PER_IMAGE,
  ExtensionError,
  PIPELINE_CHOICES,
  batchPageHref,
  costLine,
  submitBatch,
  summariseSelection,
  type ActionApi,
} from "../../../extensions/image-cleanup-action/src/logic";

type Media = "IMAGE" | "VIDEO" | "MODEL_3D" | "EXTERNAL_VIDEO";

/** A stand-in for the admin extension API: selection, session token and the Direct API `query`. */
function extensionApi(products: Record<string, Media[]>, selected: string[], opts: { errors?: string } = {}) {
  const queries: Array<{ query: string; variables?: Record<string, unknown> }> = [];
  const api: ActionApi = {
    data: { selected: selected.map((id) => ({ id })) },
    auth: { idToken: async () => "session-token-123" },
    query: async <Data,>(query: string, options?: { variables?: Record<string, unknown> }) => {
      queries.push({ query, variables: options?.variables });
      if (opts.errors) return { errors: [{ message: opts.errors }] };
      const ids = (options?.variables?.ids as string[]) ?? [];
      const first = (options?.variables?.mediaFirst as number) ?? 10;
      const nodes = ids.map((id) =>
        products[id] ? { id, media: { nodes: products[id]!.slice(0, first).map((t) => ({ mediaContentType: t })) } } : null,
      );
      return { data: { nodes } as Data };
    },
  };
  return { api, queries };
}

const gid = (n: number) => `gid://shopify/Product/${n}`;

describe("admin action extension: counting the selection", () => {
  it("counts only images of the selected products and prices them at 3 credits each", async () => {
    const { api } = extensionApi(
      { [gid(1)]: ["IMAGE", "IMAGE", "VIDEO"], [gid(2)]: ["IMAGE", "MODEL_3D", "IMAGE", "IMAGE"], [gid(3)]: ["IMAGE"] },
      [gid(1), gid(2)],
    );
    const summary = await summariseSelection(api);
    expect(summary).toEqual({ productIds: [gid(1), gid(2)], products: 2, images: 5, missing: 0 });
    expect(costLine(summary.images)).toBe("5 images x 3 credits = 15 credits");
    expect(CREDITS_PER_IMAGE).toBe(3);
  });

  it("reads a large selection in several small named queries and reports deleted products", async () => {
    const products: Record<string, Media[]> = {};
    for (let i = 1; i <= 23; i++) products[gid(i)] = ["IMAGE", "IMAGE"];
    const selected = [...Object.keys(products), gid(999)];
    const { api, queries } = extensionApi(products, selected);
    const summary = await summariseSelection(api);
    expect(summary.images).toBe(46);
    expect(summary.missing).toBe(1);
    expect(queries.length).toBe(3);
    expect(queries[0]!.query).toContain("query ExtensionSelectedProductImages");
  });

  it("turns a Direct API error into a message the merchant can act on", async () => {
    const { api } = extensionApi({}, [gid(1)], { errors: "Access denied for media field" });
    await expect(summariseSelection(api)).rejects.toThrow(/Could not read the selected products' images \(Access denied/);
  });

  it("offers the app's three pipelines with plain-word rules", () => {
    expect(PIPELINE_CHOICES.map((p) => p.id)).toEqual([...PIPELINE_IDS]);
    expect(PIPELINE_CHOICES[0]!.description).toMatch(/white background/i);
  });
});

describe("admin action extension: starting a batch", () => {
  it("posts the product ids and pipeline to the app with the session token, and links to the batch page", async () => {
    const { api } = extensionApi({}, [gid(1)]);
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return Response.json(
        { batchId: "b-1", queued: 4, skipped: [{ mediaId: "gid://shopify/MediaImage/9", reason: "Already processing." }], creditsReserved: 12 },
        { status: 201 },
      );
    }) as unknown as typeof fetch;
    const created = await submitBatch(api, { productIds: [gid(1)], pipeline: "amazon" }, { appUrl: "https://app.test", fetch: fakeFetch });
    expect(created).toEqual({ batchId: "b-1", queued: 4, skipped: 1, creditsReserved: 12 });
    expect(calls[0]!.url).toBe("https://app.test/api/batches");
    expect(new Headers(calls[0]!.init.headers).get("authorization")).toBe("Bearer session-token-123");
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ productIds: [gid(1)], pipeline: "amazon" });
    expect(batchPageHref("b-1")).toBe("app:app/batches/b-1");
  });

  it("shows the app's refusal (not enough credits) as the error message", async () => {
    const { api } = extensionApi({}, [gid(1)]);
    const fakeFetch = (async () =>
      Response.json({ error: "This batch needs 30 credits; you have 9." }, { status: 402 })) as unknown as typeof fetch;
    const attempt = submitBatch(api, { productIds: [gid(1)], pipeline: "ebay" }, { fetch: fakeFetch });
    await expect(attempt).rejects.toBeInstanceOf(ExtensionError);
    await expect(attempt).rejects.toThrow("This batch needs 30 credits; you have 9.");
  });

  it("refuses to submit an empty selection without calling the app", async () => {
    const { api } = extensionApi({}, []);
    let called = false;
    const fakeFetch = (async () => {
      called = true;
      return new Response("{}");
    }) as unknown as typeof fetch;
    await expect(submitBatch(api, { productIds: [], pipeline: "amazon" }, { fetch: fakeFetch })).rejects.toThrow("Select at least one product.");
    expect(called).toBe(false);
  });
});
