import "@shopify/shopify-api/adapters/web-api";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiVersion, GraphqlQueryError, LogSeverity, RequestedTokenType, shopifyApi, type Session } from "@shopify/shopify-api";
import { getJwt } from "@shopify/shopify-api/test-helpers";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ShopifyApiError, type AdminGraphql } from "~/lib/admin-graphql.server";
import { shopPrimaryLocale } from "~/models/catalog.server";
import type { ShopifyEmulator } from "../../../emulators/shopify-admin/server";
import { shopifyStandInForFile } from "../batches/shop-setup";
import { uniqueShopDomain } from "../../factories";

// Shopify processes files in the background; on a busy machine that can take seconds, not the default 1 s.
const FILE_WAIT = { timeout: 15_000, interval: 50 };

const API_KEY = "emulator-test-key";
const API_SECRET = "emulator-test-secret";
const VERSION = "2026-07";

const shopify = shopifyApi({
  apiKey: API_KEY,
  apiSecretKey: API_SECRET,
  scopes: ["read_products", "write_products", "write_files", "read_locales"],
  hostName: "app.example.test",
  apiVersion: ApiVersion.July26,
  isEmbeddedApp: true,
  logger: { level: LogSeverity.Error },
});

/** Webhooks the "app" received: raw body plus the request, for shopify-api's own HMAC check. */
const received: Array<{ req: IncomingMessage; rawBody: string }> = [];
let appServer: Server;
let appUrl: string;

/** An App Bridge id token for `shop` (getJwt takes the store name without .myshopify.com). */
const idToken = async (shop: string, overrides: Record<string, unknown> = {}, secret = API_SECRET) =>
  (await getJwt(shop.replace(/\.myshopify\.com$/, ""), API_KEY, secret, overrides)).token;
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  appServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ req, rawBody: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => appServer.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => appServer.close(resolve));
});

// Started after the app server above (it needs its URL) and closed before it.
const emulator = shopifyStandInForFile(() => ({ apiKey: API_KEY, apiSecret: API_SECRET, appUrl, fileReadyDelayMs: 30 }));

/** A shop with an offline token obtained through the real token exchange. */
async function installedShop(opts: Parameters<ShopifyEmulator["addShop"]>[1] = {}): Promise<{ shop: string; session: Session }> {
  const shop = uniqueShopDomain();
  emulator.addShop(shop, opts);
  const { session } = await shopify.auth.tokenExchange({
    shop,
    sessionToken: await idToken(shop),
    requestedTokenType: RequestedTokenType.OfflineAccessToken,
  });
  return { shop, session };
}

/** Plain HTTP call as a Shopify client makes it (the dispatcher sends *.myshopify.com to the stand-in). */
async function adminGraphql(shop: string, token: string, query: string, variables: Record<string, unknown> = {}, version = VERSION) {
  const response = await fetch(`https://${shop}/admin/api/${version}/graphql.json`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Shopify-Access-Token": token },
    body: JSON.stringify({ query, variables }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, body: (await response.json()) as any };
}

async function tokenExchange(shop: string, overrides: Record<string, string>) {
  const token = await idToken(shop);
  const response = await fetch(`https://${shop}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      client_id: API_KEY,
      client_secret: API_SECRET,
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: token,
      subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
      requested_token_type: "urn:shopify:params:oauth:token-type:offline-access-token",
      ...overrides,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const PRODUCTS_PAGE = `#graphql
  query ProductsPage($after: String, $query: String) {
    products(first: 25, after: $after, query: $query) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id title media(first: 4) { nodes { ... on MediaImage { id alt status image { url width height } } } } } }
    }
  }`;

interface PageResult {
  products: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: Array<{
      cursor: string;
      node: {
        id: string;
        title: string;
        media: { nodes: Array<{ id: string; alt: string; status: string; image: { url: string } | null }> };
      };
    }>;
  };
}

describe("Shopify Admin stand-in: token exchange and auth", () => {
  it("exchanges a valid App Bridge id token for an offline token the Admin API accepts", async () => {
    const { shop, session } = await installedShop({ products: 1 });
    expect(session.accessToken).toMatch(/^shpat_/);
    expect(session.scope).toBe("read_products,write_products,write_files,read_locales");
    expect(emulator.accessToken(shop)).toBe(session.accessToken);
    const client = new shopify.clients.Graphql({ session });
    const response = await client.request(`#graphql
      query ShopName { shop { name myshopifyDomain } }`);
    expect(response.data).toEqual({ shop: { name: expect.any(String), myshopifyDomain: shop } });
  });

  it("issues online tokens with the associated user", async () => {
    const shop = uniqueShopDomain();
    emulator.addShop(shop);
    const { session } = await shopify.auth.tokenExchange({
      shop,
      sessionToken: await idToken(shop),
      requestedTokenType: RequestedTokenType.OnlineAccessToken,
    });
    expect(session.isOnline).toBe(true);
    expect(session.onlineAccessInfo?.associated_user.id).toBe(12345);
    expect(session.expires!.getTime()).toBeGreaterThan(Date.now());
  });

  it("refuses a tampered, expired or foreign id token and wrong client credentials", async () => {
    const shop = uniqueShopDomain();
    emulator.addShop(shop);
    const token = await idToken(shop);
    const [header, , signature] = token.split(".");
    const forgedPayload = Buffer.from(
      JSON.stringify({ dest: `https://${shop}`, aud: API_KEY, exp: Date.now() / 1000 + 600, sub: "1" }),
    ).toString("base64url");
    const tampered = await tokenExchange(shop, { subject_token: `${header}.${forgedPayload}.${signature}` });
    expect(tampered).toEqual({
      status: 400,
      body: { error: "invalid_subject_token", error_description: expect.stringContaining("signature") },
    });

    const refused = (description: RegExp) => ({
      status: 400,
      body: { error: "invalid_subject_token", error_description: expect.stringMatching(description) },
    });
    expect(await tokenExchange(shop, { subject_token: await idToken(shop, { exp: Date.now() / 1000 - 120 }) })).toEqual(refused(/expired/));
    expect(await tokenExchange(shop, { subject_token: await idToken(uniqueShopDomain()) })).toEqual(refused(/another shop/));
    expect(await tokenExchange(shop, { subject_token: await idToken(shop, { aud: "someone-else" }) })).toEqual(refused(/audience/));
    expect(await tokenExchange(shop, { subject_token: await idToken(shop, {}, "not-the-secret") })).toEqual(refused(/signature/));

    expect(await tokenExchange(shop, { client_secret: "wrong" })).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect(emulator.accessToken(shop)).toBeUndefined();
  });

  it("answers 401 for an unknown token or a token of another shop", async () => {
    const { shop } = await installedShop();
    const other = await installedShop();
    const query = "query ShopName { shop { name } }";
    for (const token of ["shpat_not-a-real-token", other.session.accessToken!]) {
      const response = await adminGraphql(shop, token, query);
      expect(response).toEqual({
        status: 401,
        body: { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" },
      });
    }
  });
});

describe("Shopify Admin stand-in: products and media", () => {
  it("pages through 300 products with stable cursors, each product once", async () => {
    const { shop, session } = await installedShop({ products: 300, bucketSize: 100_000 });
    const client = new shopify.clients.Graphql({ session });
    const seen: string[] = [];
    const cursors: Array<string | null> = [null];
    let mediaCount = 0;
    let after: string | null = null;
    for (;;) {
      const response: { data?: PageResult } = await client.request<PageResult>(PRODUCTS_PAGE, { variables: { after } });
      const page: PageResult["products"] = response.data!.products;
      for (const edge of page.edges) {
        seen.push(edge.node.id);
        mediaCount += edge.node.media.nodes.length;
        for (const media of edge.node.media.nodes)
          expect(media).toMatchObject({ status: "READY", image: { url: expect.stringContaining("/cdn/shop/files/") } });
      }
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      cursors.push(after);
    }
    const expected = emulator.products(shop);
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
    expect(seen).toEqual(expected.map((p) => p.id));
    expect(mediaCount).toBe(expected.reduce((n, p) => n + p.media.length, 0));
    expect(expected.some((p) => p.media.length === 0)).toBe(true);

    // Re-reading a page from its cursor gives the same products.
    const again = await client.request<PageResult>(PRODUCTS_PAGE, { variables: { after: cursors[5] } });
    expect(again.data!.products.edges.map((e) => e.node.id)).toEqual(seen.slice(125, 150));
  });

  it("filters products with Shopify search syntax", async () => {
    const { shop, session } = await installedShop({ products: 60, bucketSize: 100_000 });
    const all = emulator.products(shop);
    const client = new shopify.clients.Graphql({ session });
    const titlesFor = async (query: string) => {
      const response = await client.request<{ products: { nodes: Array<{ title: string; status: string }> } }>(
        `#graphql
        query Search($query: String) { products(first: 250, query: $query) { nodes { title status } } }`,
        { variables: { query } },
      );
      return response.data!.products.nodes;
    };
    const bottles = await titlesFor("title:*bottle*");
    expect(bottles.map((p) => p.title)).toEqual(all.filter((p) => /bottle/i.test(p.title)).map((p) => p.title));
    expect(bottles.length).toBeGreaterThan(0);

    const drafts = await titlesFor("status:draft");
    expect(drafts.length).toBeGreaterThan(0);
    expect(drafts.every((p) => p.status === "DRAFT")).toBe(true);

    expect((await titlesFor("aura")).map((p) => p.title)).toEqual(all.filter((p) => p.title.startsWith("Aura")).map((p) => p.title));
    const activeJars = await titlesFor("title:*jar* AND status:active");
    expect(activeJars.every((p) => p.title.includes("Jar") && p.status === "ACTIVE")).toBe(true);
    expect(await titlesFor("title:*no-such-product*")).toEqual([]);
  });

  it("resolves product(id), node(id) and nodes(ids) for products and media of the shop only", async () => {
    const { shop, session } = await installedShop({ products: 3, imagesPerProduct: 2 });
    const other = await installedShop({ products: 1, imagesPerProduct: 1 });
    const [product] = emulator.products(shop);
    const foreignMedia = emulator.products(other.shop)[0]!.media[0]!.id;
    const response = await adminGraphql(
      shop,
      session.accessToken!,
      `query Lookup($product: ID!, $ids: [ID!]!) {
        product(id: $product) { title mediaCount { count } }
        nodes(ids: $ids) { __typename id ... on MediaImage { alt fileStatus mimeType image { width height } } }
      }`,
      { product: product!.id, ids: [product!.media[1]!.id, foreignMedia] },
    );
    expect(response.body.data).toEqual({
      product: { title: product!.title, mediaCount: { count: 2 } },
      nodes: [
        {
          __typename: "MediaImage",
          id: product!.media[1]!.id,
          alt: product!.media[1]!.alt,
          fileStatus: "READY",
          mimeType: product!.media[1]!.mimeType,
          image: { width: product!.media[1]!.width, height: product!.media[1]!.height },
        },
        null,
      ],
    });
  });

  it("serves product images on its CDN, resized for ?width= thumbnails", async () => {
    const { shop } = await installedShop({ products: 1, imagesPerProduct: 1 });
    const media = emulator.products(shop)[0]!.media[0]!;
    const original = await fetch(media.url);
    expect(original.headers.get("content-type")).toBe(media.mimeType);
    const bytes = Buffer.from(await original.arrayBuffer());
    expect(sha256(bytes)).toBe(media.sha256);
    const thumbUrl = new URL(media.url);
    thumbUrl.searchParams.set("width", "200");
    const thumb = await fetch(thumbUrl);
    expect(thumb.headers.get("content-type")).toBe(media.mimeType);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.width).toBe(200);
    expect(meta.height).toBe(Math.round((200 * media.height) / media.width));
  });
});

describe("Shopify Admin stand-in: errors, cost and throttling", () => {
  it("answers an invalid query with a Shopify-shaped validation error", async () => {
    const { shop, session } = await installedShop();
    const response = await adminGraphql(shop, session.accessToken!, "query Broken { shop { name notAField } }");
    expect(response.status).toBe(200);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors).toEqual([
      {
        message: expect.stringContaining("notAField"),
        locations: [{ line: 1, column: 28 }],
        path: ["query Broken", "shop", "notAField"],
        extensions: { code: "undefinedField" },
      },
    ]);
    const wrongVersion = await adminGraphql(shop, session.accessToken!, "query ShopName { shop { name } }", {}, "2024-01");
    expect(wrongVersion.status).toBe(404);
  });

  it("reports the calculated cost and throttles once the bucket is empty, then recovers", async () => {
    const { shop, session } = await installedShop({ products: 20, bucketSize: 30, restoreRate: 20 });
    const query = "query TenProducts { products(first: 10) { nodes { id title } } }";
    const first = await adminGraphql(shop, session.accessToken!, query);
    expect(first.body.extensions.cost).toEqual({
      requestedQueryCost: 12,
      actualQueryCost: 12,
      throttleStatus: { maximumAvailable: 30, currentlyAvailable: expect.any(Number), restoreRate: 20 },
    });
    let throttled = first;
    for (let i = 0; i < 5 && !throttled.body.errors; i++) throttled = await adminGraphql(shop, session.accessToken!, query);
    expect(throttled.status).toBe(200);
    expect(throttled.body).toEqual({
      errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: expect.stringContaining("shopify.dev") } }],
      extensions: {
        cost: {
          requestedQueryCost: 12,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 30, currentlyAvailable: expect.any(Number), restoreRate: 20 },
        },
      },
    });
    expect(emulator.graphqlLog(shop).some((entry) => entry.operationName === "TenProducts" && entry.throttled)).toBe(true);

    // The real client surfaces it as an error the app can read the code from.
    const client = new shopify.clients.Graphql({ session });
    const error = await client.request(query).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphqlQueryError);
    expect((error as GraphqlQueryError).body?.errors).toMatchObject({ graphQLErrors: [{ extensions: { code: "THROTTLED" } }] });

    const status = throttled.body.extensions.cost.throttleStatus;
    await new Promise((resolve) => setTimeout(resolve, ((12 - status.currentlyAvailable) / status.restoreRate) * 1000 + 100));
    const recovered = await adminGraphql(shop, session.accessToken!, query);
    expect(recovered.body.errors).toBeUndefined();
    expect(recovered.body.data.products.nodes).toHaveLength(10);
  });

  it("refuses a query costing more than the bucket can ever hold", async () => {
    const { shop, session } = await installedShop({ products: 2 });
    const response = await adminGraphql(
      shop,
      session.accessToken!,
      "query Huge { products(first: 250) { nodes { id media(first: 250) { nodes { id } } } } }",
    );
    expect(response.body.errors[0].extensions.code).toBe("MAX_COST_EXCEEDED");
    expect(response.body.data).toBeUndefined();
  });

  it("charges only the actual cost when a connection returns fewer nodes than requested", async () => {
    const { shop, session } = await installedShop({ products: 3 });
    const response = await adminGraphql(shop, session.accessToken!, "query Few { products(first: 100) { nodes { id } } }");
    expect(response.body.extensions.cost).toMatchObject({ requestedQueryCost: 102, actualQueryCost: 5 });
    expect(response.body.extensions.cost.throttleStatus.currentlyAvailable).toBeGreaterThanOrEqual(995);
  });
});

const STAGE = `#graphql
  mutation StageUpload($input: [StagedUploadInput!]!) {
    stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } }
  }`;
const FILE_CREATE = `#graphql
  mutation CreateFile($files: [FileCreateInput!]!) {
    fileCreate(files: $files) { files { id fileStatus alt ... on MediaImage { image { url } } } userErrors { field message code } }
  }`;
const FILE_UPDATE = `#graphql
  mutation ReplaceFile($files: [FileUpdateInput!]!) {
    fileUpdate(files: $files) { files { id fileStatus alt } userErrors { field message code } }
  }`;
const MEDIA_STATE = `#graphql
  query MediaState($id: ID!) {
    node(id: $id) { ... on MediaImage { id alt status fileStatus mimeType fileErrors { code message } image { url width height } } }
  }`;

async function stageAndUpload(shop: string, token: string, bytes: Buffer, mimeType: string, httpMethod: "POST" | "PUT"): Promise<string> {
  const staged = await adminGraphql(shop, token, STAGE, {
    input: [{ resource: "IMAGE", filename: `upload.${mimeType.split("/")[1]}`, mimeType, httpMethod, fileSize: String(bytes.length) }],
  });
  expect(staged.body.data.stagedUploadsCreate.userErrors).toEqual([]);
  const target = staged.body.data.stagedUploadsCreate.stagedTargets[0] as {
    url: string;
    resourceUrl: string;
    parameters: Array<{ name: string; value: string }>;
  };
  if (httpMethod === "POST") {
    const form = new FormData();
    for (const { name, value } of target.parameters) form.append(name, value);
    form.append("file", new Blob([new Uint8Array(bytes)], { type: mimeType }), "upload");
    const upload = await fetch(target.url, { method: "POST", body: form });
    expect(upload.status).toBe(201);
  } else {
    const upload = await fetch(target.url, { method: "PUT", headers: { "Content-Type": mimeType }, body: new Uint8Array(bytes) });
    expect(upload.status).toBe(200);
  }
  return target.resourceUrl;
}

async function mediaState(shop: string, token: string, id: string) {
  return (await adminGraphql(shop, token, MEDIA_STATE, { id })).body.data.node;
}

async function newImage(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: "#ffffff" } })
    .composite([
      {
        input: await sharp({ create: { width: Math.round(width / 2), height: Math.round(height / 2), channels: 3, background: "#c0392b" } })
          .png()
          .toBuffer(),
        gravity: "centre",
      },
    ])
    .jpeg()
    .toBuffer();
}

describe("Shopify Admin stand-in: frozen and locked shops", () => {
  it("answers every Admin API request of a frozen (402) or locked (423) shop with the status, and serves it again once lifted", async () => {
    const { shop, session } = await installedShop({ products: 1 });
    const query = "query ShopName { shop { name } }";
    const client = new shopify.clients.Graphql({ session });
    // The worker's client shape (a Response per call), read by the app's runner.
    const graphql: AdminGraphql = async (document, options) =>
      new Response(JSON.stringify(await client.request(document, { variables: options?.variables })));

    emulator.setShopUnavailable(shop, 402);
    expect(await adminGraphql(shop, session.accessToken!, query)).toEqual({ status: 402, body: { errors: "Unavailable Shop" } });
    const frozen = await shopPrimaryLocale(graphql).catch((e: unknown) => e);
    expect(frozen).toBeInstanceOf(ShopifyApiError);
    expect(frozen).toMatchObject({ shopifyStatus: 402, terminal: true });

    emulator.setShopUnavailable(shop, 423);
    expect(await adminGraphql(shop, session.accessToken!, query)).toEqual({ status: 423, body: { errors: "Locked" } });
    expect(await shopPrimaryLocale(graphql).catch((e: unknown) => e)).toMatchObject({ shopifyStatus: 423, terminal: true });
    expect(emulator.refusedWhileUnavailable(shop)).toEqual(["ShopName", "CatalogShopLocales", "ShopName", "CatalogShopLocales"]);

    emulator.setShopUnavailable(shop, null);
    expect(await adminGraphql(shop, session.accessToken!, query)).toMatchObject({
      status: 200,
      body: { data: { shop: { name: expect.any(String) } } },
    });
    expect(await shopPrimaryLocale(graphql)).toBe("en");
  });
});

describe("Shopify Admin stand-in: files", () => {
  it("backs up an image with fileCreate and replaces product media in place with fileUpdate", async () => {
    const { shop, session } = await installedShop({ products: 2, imagesPerProduct: 3 });
    const token = session.accessToken!;
    const before = emulator.products(shop)[1]!;
    const target = before.media[1]!;

    // Backup: fileCreate straight from the product image's CDN URL.
    const created = await adminGraphql(shop, token, FILE_CREATE, {
      files: [{ originalSource: target.url, contentType: "IMAGE", alt: "backup" }],
    });
    expect(created.body.data.fileCreate.userErrors).toEqual([]);
    const backup = created.body.data.fileCreate.files[0];
    expect(backup).toMatchObject({ fileStatus: "UPLOADED", image: null });
    await vi.waitFor(() => expect(emulator.files(shop).find((f) => f.id === backup.id)?.status).toBe("READY"), FILE_WAIT);
    expect(emulator.files(shop).find((f) => f.id === backup.id)!.sha256).toBe(target.sha256);

    // Replacement: staged upload (multipart POST) then fileUpdate on the same MediaImage id.
    const replacement = await newImage(1000, 1000);
    const resourceUrl = await stageAndUpload(shop, token, replacement, "image/jpeg", "POST");
    const updated = await adminGraphql(shop, token, FILE_UPDATE, { files: [{ id: target.id, originalSource: resourceUrl }] });
    expect(updated.body.data.fileUpdate).toEqual({ files: [{ id: target.id, fileStatus: "PROCESSING", alt: target.alt }], userErrors: [] });
    expect(emulator.products(shop)[1]!.media[1]!.status).toBe("PROCESSING");

    await vi.waitFor(async () => expect((await mediaState(shop, token, target.id)).status).toBe("READY"), FILE_WAIT);
    const after = emulator.products(shop)[1]!;
    expect(after.media.map((m) => m.id)).toEqual(before.media.map((m) => m.id));
    expect(after.media[1]).toMatchObject({
      id: target.id,
      position: 2,
      alt: target.alt,
      mimeType: "image/jpeg",
      width: 1000,
      height: 1000,
      sha256: sha256(replacement),
    });
    expect(after.media[0]!.sha256).toBe(before.media[0]!.sha256);
    // Same CDN path, new ?v=; the old URL now serves the new content, as on Shopify.
    expect(after.media[1]!.url).not.toBe(target.url);
    expect(new URL(after.media[1]!.url).pathname).toBe(new URL(target.url).pathname);
    const served = Buffer.from(await (await fetch(target.url)).arrayBuffer());
    expect(sha256(served)).toBe(sha256(replacement));

    // Restore: fileUpdate from the backup's URL brings the original bytes back, via a PUT-staged alt change too.
    const backupUrl = emulator.files(shop).find((f) => f.id === backup.id)!.url!;
    await adminGraphql(shop, token, FILE_UPDATE, { files: [{ id: target.id, originalSource: backupUrl, alt: "restored" }] });
    await vi.waitFor(() => expect(emulator.products(shop)[1]!.media[1]!.status).toBe("READY"), FILE_WAIT);
    expect(emulator.products(shop)[1]!.media[1]).toMatchObject({ id: target.id, position: 2, alt: "restored", sha256: target.sha256 });
  });

  it("accepts PUT staged uploads", async () => {
    const { shop, session } = await installedShop({ products: 1, imagesPerProduct: 1 });
    const png = await sharp({ create: { width: 64, height: 48, channels: 4, background: "#00ff0080" } })
      .png()
      .toBuffer();
    const resourceUrl = await stageAndUpload(shop, session.accessToken!, png, "image/png", "PUT");
    const created = await adminGraphql(shop, session.accessToken!, FILE_CREATE, {
      files: [{ originalSource: resourceUrl, contentType: "IMAGE", alt: "swatch" }],
    });
    const id = created.body.data.fileCreate.files[0].id as string;
    await vi.waitFor(async () => expect((await mediaState(shop, session.accessToken!, id)).fileStatus).toBe("READY"), FILE_WAIT);
    expect(await mediaState(shop, session.accessToken!, id)).toMatchObject({ mimeType: "image/png", image: { width: 64, height: 48 } });
    expect(emulator.files(shop)).toEqual([
      { id, url: expect.stringContaining(".png"), status: "READY", alt: "swatch", sha256: sha256(png) },
    ]);
  });

  it("fails an update whose source is not an image and keeps the previous image until acknowledged", async () => {
    const { shop, session } = await installedShop({ products: 1, imagesPerProduct: 2 });
    const token = session.accessToken!;
    const target = emulator.products(shop)[0]!.media[0]!;
    const resourceUrl = await stageAndUpload(shop, token, Buffer.from("this is not an image"), "image/jpeg", "PUT");
    await adminGraphql(shop, token, FILE_UPDATE, { files: [{ id: target.id, originalSource: resourceUrl }] });
    await vi.waitFor(async () => expect((await mediaState(shop, token, target.id)).fileStatus).toBe("FAILED"), FILE_WAIT);
    const failed = await mediaState(shop, token, target.id);
    expect(failed.fileErrors).toEqual([{ code: "UNSUPPORTED_IMAGE_FILE_TYPE", message: expect.any(String) }]);
    expect(failed.image.url).toBe(target.url);

    const retry = await adminGraphql(shop, token, FILE_UPDATE, { files: [{ id: target.id, originalSource: resourceUrl }] });
    expect(retry.body.data.fileUpdate.userErrors).toEqual([
      { field: ["files", "0", "id"], message: expect.any(String), code: "INVALID_FAILED_MEDIA_STATE" },
    ]);

    const ack = await adminGraphql(
      shop,
      token,
      `mutation Ack($ids: [ID!]!) { fileAcknowledgeUpdateFailed(fileIds: $ids) { files { id fileStatus } userErrors { code } } }`,
      { ids: [target.id] },
    );
    expect(ack.body.data.fileAcknowledgeUpdateFailed).toEqual({ files: [{ id: target.id, fileStatus: "READY" }], userErrors: [] });
    expect(emulator.products(shop)[0]!.media[0]).toMatchObject({ id: target.id, status: "READY", sha256: target.sha256, url: target.url });
  });

  it("fails the next update on demand with the given reason", async () => {
    const { shop, session } = await installedShop({ products: 1, imagesPerProduct: 1 });
    const token = session.accessToken!;
    const target = emulator.products(shop)[0]!.media[0]!;
    const resourceUrl = await stageAndUpload(shop, token, await newImage(300, 300), "image/jpeg", "POST");
    emulator.setFailNextFileUpdate(shop, "Simulated processing outage");
    await adminGraphql(shop, token, FILE_UPDATE, { files: [{ id: target.id, originalSource: resourceUrl }] });
    await vi.waitFor(async () => expect((await mediaState(shop, token, target.id)).fileStatus).toBe("FAILED"), FILE_WAIT);
    expect((await mediaState(shop, token, target.id)).fileErrors).toEqual([
      { code: "IMAGE_PROCESSING_FAILURE", message: "Simulated processing outage" },
    ]);
    expect(emulator.products(shop)[0]!.media[0]!.sha256).toBe(target.sha256);
  });

  it("refuses updates of unknown files and invalid sources with userErrors", async () => {
    const { shop, session } = await installedShop({ products: 1, imagesPerProduct: 1 });
    const response = await adminGraphql(shop, session.accessToken!, FILE_UPDATE, {
      files: [{ id: "gid://shopify/MediaImage/1", originalSource: "https://example.test/a.jpg" }],
    });
    expect(response.body.data.fileUpdate).toEqual({
      files: null,
      userErrors: [{ field: ["files", "0", "id"], message: expect.any(String), code: "FILE_DOES_NOT_EXIST" }],
    });
    const bad = await adminGraphql(shop, session.accessToken!, FILE_CREATE, {
      files: [{ originalSource: "not a url", contentType: "IMAGE" }],
    });
    expect(bad.body.data.fileCreate.userErrors).toEqual([
      { field: ["files", "0", "originalSource"], message: expect.any(String), code: "INVALID_IMAGE_SOURCE_URL" },
    ]);
    const source = emulator.products(shop)[0]!.media[0]!;
    const wrongExtension = source.mimeType === "image/png" ? "backup.jpg" : "backup.png";
    const mismatched = await adminGraphql(shop, session.accessToken!, FILE_CREATE, {
      files: [{ originalSource: source.url, contentType: "IMAGE", filename: wrongExtension }],
    });
    expect(mismatched.body.data.fileCreate.userErrors).toEqual([
      { field: ["files", "0", "filename"], message: expect.any(String), code: "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE" },
    ]);
    expect(emulator.files(shop)).toEqual([]);
  });
});

const PURCHASE_CREATE = `#graphql
  mutation BuyPack($name: String!, $price: MoneyInput!, $returnUrl: URL!, $test: Boolean) {
    appPurchaseOneTimeCreate(name: $name, price: $price, returnUrl: $returnUrl, test: $test) {
      appPurchaseOneTime { id name status test price { amount currencyCode } createdAt }
      confirmationUrl
      userErrors { field message }
    }
  }`;

async function validateWebhook(rawRequest: Request, rawBody: string) {
  return shopify.webhooks.validate({ rawBody, rawRequest });
}

/** The received Node request as a web Request (the app's Remix handlers see it that way). */
function asRequest(req: IncomingMessage, rawBody: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
  return new Request(`http://app.example.test${req.url}`, { method: req.method, headers, body: rawBody });
}

describe("Shopify Admin stand-in: one-time purchases", () => {
  it("creates a purchase, lets the merchant approve it, redirects with charge_id and sends a signed webhook", async () => {
    const { shop, session } = await installedShop();
    const returnUrl = "https://app.example.test/app/credits?pack=30";
    const created = await adminGraphql(shop, session.accessToken!, PURCHASE_CREATE, {
      name: "30 credits",
      price: { amount: 9.99, currencyCode: "USD" },
      returnUrl,
      test: true,
    });
    const payload = created.body.data.appPurchaseOneTimeCreate;
    expect(payload).toMatchObject({
      appPurchaseOneTime: {
        id: expect.stringMatching(/^gid:\/\/shopify\/AppPurchaseOneTime\/\d+$/),
        name: "30 credits",
        status: "PENDING",
        test: true,
        price: { amount: "9.99", currencyCode: "USD" },
      },
      confirmationUrl: expect.stringContaining(emulator.url),
      userErrors: [],
    });
    const numericId = payload.appPurchaseOneTime.id.split("/").at(-1);

    const page = await fetch(payload.confirmationUrl);
    const html = await page.text();
    expect(html).toContain("30 credits");
    expect(html).toContain("Approve");
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, "&");
    const decision = await fetch(new URL(action, emulator.url), {
      method: "POST",
      body: new URLSearchParams({ decision: "approve" }),
      redirect: "manual",
    });
    expect(decision.status).toBe(302);
    expect(decision.headers.get("location")).toBe(`${returnUrl}&charge_id=${numericId}`);

    const listed = await adminGraphql(
      shop,
      session.accessToken!,
      `query Purchases { currentAppInstallation { oneTimePurchases(first: 10) { nodes { id status } } } }`,
    );
    expect(listed.body.data.currentAppInstallation.oneTimePurchases.nodes).toEqual([
      { id: payload.appPurchaseOneTime.id, status: "ACTIVE" },
    ]);

    const webhook = received.find((w) => w.rawBody.includes(payload.appPurchaseOneTime.id));
    expect(webhook).toBeDefined();
    expect(webhook!.req.url).toBe("/webhooks/app_purchases_one_time/update");
    expect(JSON.parse(webhook!.rawBody)).toEqual({
      app_purchase_one_time: {
        admin_graphql_api_id: payload.appPurchaseOneTime.id,
        name: "30 credits",
        status: "ACTIVE",
        admin_graphql_api_shop_id: expect.stringMatching(/^gid:\/\/shopify\/Shop\/\d+$/),
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    });
    expect(await validateWebhook(asRequest(webhook!.req, webhook!.rawBody), webhook!.rawBody)).toMatchObject({
      valid: true,
      topic: "APP_PURCHASES_ONE_TIME_UPDATE",
      domain: shop,
    });
  });

  it("records declines and expiries made by tests and refuses bad prices", async () => {
    const { shop, session } = await installedShop();
    const create = async () =>
      (
        await adminGraphql(shop, session.accessToken!, PURCHASE_CREATE, {
          name: "100 credits",
          price: { amount: "29.99", currencyCode: "USD" },
          returnUrl: "https://app.example.test/app/credits",
        })
      ).body.data.appPurchaseOneTimeCreate.appPurchaseOneTime.id as string;
    const declined = await create();
    const expired = await create();
    await emulator.declinePurchase(shop, declined);
    await emulator.expirePurchase(shop, expired);
    expect(emulator.purchases(shop).map((p) => [p.id, p.status])).toEqual([
      [declined, "DECLINED"],
      [expired, "EXPIRED"],
    ]);
    await expect(emulator.approvePurchase(shop, declined)).rejects.toThrow(/already DECLINED/);
    expect(received.some((w) => w.rawBody.includes(declined) && w.rawBody.includes('"DECLINED"'))).toBe(true);

    const free = await adminGraphql(shop, session.accessToken!, PURCHASE_CREATE, {
      name: "free",
      price: { amount: "0", currencyCode: "USD" },
      returnUrl: "https://app.example.test/",
    });
    expect(free.body.data.appPurchaseOneTimeCreate).toEqual({
      appPurchaseOneTime: null,
      confirmationUrl: null,
      userErrors: [{ field: ["price"], message: expect.any(String) }],
    });
  });

  it("builds webhook requests the app can verify, and ones with a wrong secret it must refuse", async () => {
    const shop = uniqueShopDomain();
    const request = emulator.buildWebhookRequest({
      topic: "app/uninstalled",
      shop,
      payload: { id: 1 },
      path: "/webhooks/app/uninstalled",
      webhookId: "wh-1",
    });
    expect(request.headers.get("X-Shopify-Webhook-Id")).toBe("wh-1");
    expect(await validateWebhook(request, await request.clone().text())).toMatchObject({
      valid: true,
      topic: "APP_UNINSTALLED",
      domain: shop,
      webhookId: "wh-1",
      apiVersion: VERSION,
    });
    const forged = emulator.buildWebhookRequest({
      topic: "app/uninstalled",
      shop,
      payload: { id: 1 },
      path: "/webhooks/app/uninstalled",
      secret: "wrong",
    });
    expect(await validateWebhook(forged, await forged.clone().text())).toMatchObject({ valid: false });
  });
});
