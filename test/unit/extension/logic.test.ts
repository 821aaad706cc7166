import { describe, expect, it } from "vitest";
import en from "../../../extensions/image-cleanup-action/locales/en.default.json";
import es from "../../../extensions/image-cleanup-action/locales/es.json";
import { PIPELINE_IDS } from "~/imaging/pipelines";
import {
  ExtensionError,
  PIPELINE_CHOICES,
  batchPageHref,
  SERVER_ERROR_CODES,
  costLine,
  fetchPricing,
  selectionLine,
  startedMessage,
  submitBatch,
  summariseSelection,
  type ActionApi,
  type Translate,
} from "../../../extensions/image-cleanup-action/src/logic";

const LOCALES = { en, es } as const;

/**
 * A stand-in for Shopify's `i18n.translate` in UI extensions: the key's string in the admin's language (nested keys
 * with dots), `{{name}}` replaced, and with `count` the plural form (`one`, `many`, `other`) its language picks.
 */
function translator(locale: keyof typeof LOCALES): Translate {
  return (key, options = {}) => {
    let value: unknown = key
      .split(".")
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], LOCALES[locale]);
    if (value && typeof value === "object" && typeof options.count === "number") {
      const forms = value as Record<string, string>;
      value = forms[new Intl.PluralRules(locale).select(options.count)] ?? forms.other;
    }
    if (typeof value !== "string") throw new Error(`no ${locale} string for ${key}`);
    return value.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => String(options[name] ?? `{{${name}}}`));
  };
}

/** Every string key (plural forms folded into their key), with its placeholders. */
function shape(tree: unknown, prefix = ""): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, value] of Object.entries(tree as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const pluralForms =
      value && typeof value === "object" && Object.keys(value).every((k) => ["zero", "one", "two", "few", "many", "other"].includes(k));
    if (typeof value === "string" || pluralForms) {
      const texts = typeof value === "string" ? [value] : Object.values(value as Record<string, string>);
      out.set(path, [...new Set(texts.flatMap((text) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!)))].sort());
    } else for (const [k, v] of shape(value, path)) out.set(k, v);
  }
  return out;
}

type Media = "IMAGE" | "VIDEO" | "MODEL_3D" | "EXTERNAL_VIDEO";

/** A stand-in for the admin extension API: selection, session token and the Direct API `query`. */
function extensionApi(
  products: Record<string, Media[]>,
  selected: string[],
  opts: { errors?: string; locale?: keyof typeof LOCALES } = {},
) {
  const queries: Array<{ query: string; variables?: Record<string, unknown> }> = [];
  const api: ActionApi = {
    i18n: { translate: translator(opts.locale ?? "en") },
    data: { selected: selected.map((id) => ({ id })) },
    auth: { idToken: async () => "session-token-123" },
    query: async <Data>(query: string, options?: { variables?: Record<string, unknown> }) => {
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
  it("counts only images of the selected products and prices them at the app's price", async () => {
    const { api } = extensionApi(
      { [gid(1)]: ["IMAGE", "IMAGE", "VIDEO"], [gid(2)]: ["IMAGE", "MODEL_3D", "IMAGE", "IMAGE"], [gid(3)]: ["IMAGE"] },
      [gid(1), gid(2)],
    );
    const summary = await summariseSelection(api);
    expect(summary).toEqual({ productIds: [gid(1), gid(2)], products: 2, images: 5, missing: 0 });
    expect(costLine(api.i18n.translate, summary.images, 3)).toBe("5 images x 3 credits = 15 credits");
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
    expect(translator("en")(`pipelines.${PIPELINE_CHOICES[0]!.id}.description`)).toMatch(/white background/i);
  });
});

describe("admin action extension: the app's price", () => {
  it("asks the app for its price per image with the session token and shows that price", async () => {
    const { api } = extensionApi({ [gid(1)]: ["IMAGE", "IMAGE"] }, [gid(1)]);
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return Response.json({ creditsPerImage: 5 });
    }) as unknown as typeof fetch;
    const { creditsPerImage } = await fetchPricing(api, { appUrl: "https://app.test", fetch: fakeFetch });
    const summary = await summariseSelection(api);
    expect(costLine(api.i18n.translate, summary.images, creditsPerImage)).toBe("2 images x 5 credits = 10 credits");
    expect(calls[0]!.url).toBe("https://app.test/api/batches");
    expect(calls[0]!.init.method ?? "GET").toBe("GET");
    expect(new Headers(calls[0]!.init.headers).get("authorization")).toBe("Bearer session-token-123");
  });

  it("says the price could not be read rather than guessing one", async () => {
    const { api } = extensionApi({}, [gid(1)]);
    const answers = [Response.json({ error: "Server error" }, { status: 500 }), Response.json({ creditsPerImage: "lots" })];
    for (const answer of answers) {
      const fakeFetch = (async () => answer) as unknown as typeof fetch;
      await expect(fetchPricing(api, { fetch: fakeFetch })).rejects.toThrow(
        "Could not read the price per image from the app. Close this and try again.",
      );
    }
  });
});

describe("admin action extension: starting a batch", () => {
  it("posts the product ids and pipeline to the app with the session token, and links to the batch page", async () => {
    const { api } = extensionApi({}, [gid(1)]);
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return Response.json(
        {
          batchId: "b-1",
          queued: 4,
          skipped: [{ mediaId: "gid://shopify/MediaImage/9", reason: "Already processing." }],
          creditsReserved: 12,
        },
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
    await expect(submitBatch(api, { productIds: [], pipeline: "amazon" }, { fetch: fakeFetch })).rejects.toThrow(
      "Select at least one product.",
    );
    expect(called).toBe(false);
  });
});

describe("admin action extension: the admin's language", () => {
  it("has the same strings, plural forms its language needs and placeholders in English and Spanish", () => {
    expect([...shape(es)].sort()).toEqual([...shape(en)].sort());
    const needsMany = (tree: unknown): boolean =>
      Object.values(tree as Record<string, unknown>).every(
        (v) => typeof v === "string" || ("one" in (v as object) ? "many" in (v as object) : needsMany(v)),
      );
    expect(needsMany(es)).toBe(true);
    expect(Object.keys(en.serverErrors).sort()).toEqual([...SERVER_ERROR_CODES].sort());
  });

  it("counts, prices and reports a started batch in Spanish", async () => {
    const { api } = extensionApi({ [gid(1)]: ["IMAGE", "IMAGE"], [gid(2)]: ["IMAGE"] }, [gid(1), gid(2)], { locale: "es" });
    const summary = await summariseSelection(api);
    const t = api.i18n.translate;
    expect(selectionLine(t, summary)).toBe("2 productos seleccionados con 3 imágenes.");
    expect(costLine(t, 1, 3)).toBe("1 imagen x 3 créditos = 3 créditos");
    expect(costLine(t, summary.images, 5)).toBe("3 imágenes x 5 créditos = 15 créditos");
    expect(startedMessage(t, { batchId: "b", queued: 2, skipped: 1, creditsReserved: 6 })).toBe(
      "Iniciado: 2 imágenes en cola, 6 créditos reservados. 1 omitidas (ya en proceso o no son imágenes).",
    );
  });

  it("says the app's refusal in Spanish when the app sends its code, and the app's own words otherwise", async () => {
    const { api } = extensionApi({}, [gid(1)], { locale: "es" });
    const refuse = (body: unknown) => (async () => Response.json(body, { status: 422 })) as unknown as typeof fetch;
    await expect(
      submitBatch(
        api,
        { productIds: [gid(1)], pipeline: "amazon" },
        {
          fetch: refuse({
            error: "This batch needs 30 credits; you have 9.",
            errorCode: "insufficientCredits",
            errorParams: { needed: 30, available: 9 },
          }),
        },
      ),
    ).rejects.toThrow("Este lote necesita 30 créditos y tienes 9.");
    await expect(
      submitBatch(api, { productIds: [gid(1)], pipeline: "amazon" }, { fetch: refuse({ error: "Some new refusal." }) }),
    ).rejects.toThrow("Some new refusal.");
    await expect(submitBatch(api, { productIds: [], pipeline: "amazon" }, { fetch: refuse({}) })).rejects.toThrow(
      "Selecciona al menos un producto.",
    );
  });
});
