import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BillingService, confirmationPage, purchaseWebhookPayload } from "./billing";
import { BULK_FINISH_TOPIC, BulkService, bulkFinishPayload } from "./bulk";
import { Cdn } from "./cdn";
import { FileService } from "./files";
import { runGraphql, type GraphqlBody } from "./graphql";
import { handleAccessTokenRequest } from "./oauth";
import type { ResolverContext } from "./resolvers";
import { EMULATED_API_VERSION, loadAdminSchema } from "./schema";
import {
  EmulatorStore,
  randomHex,
  type AddShopOptions,
  type ProductRecord,
  type PurchaseRecord,
  type ShopState,
  type ShopUnavailableStatus,
  type TokenStats,
} from "./store";
import { buildSignedWebhookRequest, type WebhookOptions } from "./webhooks";
import { PRODUCT_CREATE_TOPIC, PRODUCT_UPDATE_TOPIC, productWebhookPayload } from "./product-webhooks";
import { outlastClientKeepAlive } from "../keep-alive";

export { loadAdminSchema } from "./schema";

export interface ShopifyEmulatorOptions {
  apiKey: string;
  apiSecret: string;
  /** Where webhooks go (defaults to SHOPIFY_APP_URL); without it purchase webhooks are not sent. */
  appUrl?: string;
  bucketSize?: number;
  restoreRate?: number;
  fileReadyDelayMs?: number;
  scopes?: string;
  /** Lifetime of expiring offline access tokens in seconds (Shopify: 3,600); tests shorten it to see refreshes. */
  offlineTokenSeconds?: number;
  /** Path (on appUrl) of the app's app_purchases_one_time/update handler. */
  purchaseWebhookPath?: string;
  /** How long a bulk operation runs before it completes (default 200 ms). */
  bulkOperationMs?: number;
  /**
   * Send products/create and products/update (to appUrl + these paths, or the app's /webhooks/products/{create,update}
   * with `true`), as Shopify does for an app subscribed to them. Off by default: a stand-in serving a bench or a test
   * that does not subscribe would otherwise post one webhook per replaced image to an app that is not there.
   */
  productWebhooks?: boolean | { create: string; update: string };
  /**
   * Path (on appUrl) of the app's bulk_operations/finish handler (default /webhooks/bulk_operations/finish); false
   * sends none (a lost webhook: the app must fall back to reading the operation).
   */
  bulkFinishWebhookPath?: string | false;
}

export interface EmulatedMedia {
  id: string;
  position: number;
  alt: string | null;
  url: string;
  status: string;
  mimeType: string;
  sha256: string;
  width: number;
  height: number;
  /** fileUpdate calls that gave this media a new image. */
  replacements: number;
}

export interface SentWebhook {
  topic: string;
  shop: string;
  path: string;
  payload: unknown;
  status: number | null;
  error: string | null;
}

export interface ShopifyEmulator {
  url: string;
  close(): Promise<void>;
  addShop(shop: string, opts?: AddShopOptions): void;
  setThrottle(shop: string, opts: { bucketSize?: number; restoreRate?: number }): void;
  products(shop: string): Array<{ id: string; title: string; media: EmulatedMedia[] }>;
  files(shop: string): Array<{ id: string; url: string | null; status: string; alt: string | null; sha256: string | null }>;
  accessToken(shop: string): string | undefined;
  /** Registers a non-expiring offline access token for `shop` without a token exchange (e.g. a test session's token). */
  grantAccessToken(shop: string, token?: string): string;
  /** Refreshes, refresh-token reuses, migrations and expired-token refusals seen for the shop. */
  tokenStats(shop: string): TokenStats;
  /** Revokes the shop's refresh tokens: the next refresh is refused (access tokens run until they expire). */
  revokeRefreshTokens(shop: string): number;
  /** The app is uninstalled: the shop's access and refresh tokens are refused from now on, as Shopify does before its app/uninstalled webhook. */
  uninstallApp(shop: string): void;
  /**
   * Shopify freezes the shop (402, its Shopify bill is unpaid) or locks it (423): every Admin API request of the shop
   * answers that status with a JSON `errors` body from now on; null opens it again (the bill paid, the lock lifted).
   */
  setShopUnavailable(shop: string, status: ShopUnavailableStatus | null): void;
  /** Operation names of the shop's Admin API requests refused while it was frozen or locked, oldest first. */
  refusedWhileUnavailable(shop: string): string[];
  graphqlLog(shop: string): Array<{ operationName: string | null; requestedCost: number; throttled: boolean; at: number }>;
  setFailNextFileUpdate(shop: string, reason?: string): void;
  /** The shop's next fileUpdate with a new source stays PROCESSING for `ms` before it is applied. */
  setSlowNextFileUpdate(shop: string, ms: number): void;
  /** The media of the shop's next product created through the Admin API (productCreate) stay PROCESSING for `reads` reads. */
  holdNextProductMediaProcessing(shop: string, reads: number): void;
  /** The merchant makes a collection: of these products (custom), or of every product of a type (smart). Returns its id. */
  addCollection(shop: string, fields: { title: string; productIds?: string[]; productType?: string }): string;
  /** The merchant deletes a product's media in the admin: it leaves the product and no longer exists (products/update). */
  deleteMedia(shop: string, mediaId: string): void;
  /**
   * The merchant adds a product with `images` photos in the admin; resolves once products/create was delivered.
   * `productIndex` picks the seeded catalogue entry it copies (title, type, tags); `sendWebhook: false` only returns
   * the payload (a test delivers it itself, e.g. as duplicates).
   */
  createProduct(
    shop: string,
    opts: { images: number; productIndex?: number; sendWebhook?: boolean },
  ): Promise<{ id: string; mediaIds: string[]; payload: unknown }>;
  /** The merchant adds photos to a product; resolves once products/update was delivered. */
  addProductImages(shop: string, productId: string, count: number): Promise<string[]>;
  /** Resolves once every webhook the stand-in has started sending was answered (or failed). */
  webhooksDelivered(): Promise<void>;
  /** Runs `hook` when the shop's next `operationName` request arrives, before it is executed (something else happens just then). */
  beforeNextOperation(shop: string, operationName: string, hook: () => Promise<void>): void;
  /** Runs `hook` once the shop's next `operationName` request has been executed, before its answer is sent. */
  afterNextOperation(shop: string, operationName: string, hook: () => Promise<void>): void;
  purchases(
    shop: string,
  ): Array<{ id: string; name: string; status: string; price: { amount: string; currencyCode: string }; test: boolean; returnUrl: string }>;
  approvePurchase(shop: string, id: string): Promise<void>;
  declinePurchase(shop: string, id: string): Promise<void>;
  expirePurchase(shop: string, id: string): Promise<void>;
  /** Webhooks this stand-in sent on its own (purchase, product and bulk operation updates), with the app's answer. */
  sentWebhooks(): SentWebhook[];
  buildWebhookRequest(opts: WebhookOptions): Request;
  sendWebhook(opts: Omit<WebhookOptions, "secret">): Promise<Response>;
}

const BODY_LIMIT = 30 * 1024 * 1024;
/** The `errors` Shopify answers for a frozen (402) or locked (423) shop. */
const UNAVAILABLE_SHOP_ERRORS: Record<ShopUnavailableStatus, string> = { 402: "Unavailable Shop", 423: "Locked" };
/** Fixture photos of products added after the shop was seeded start here (the seeded ones count up from 0). */
const ADDED_IMAGE_BASE = 50_000;
const PURCHASE_TOPIC = "app_purchases_one_time/update";
const DEFAULT_PRODUCT_WEBHOOK_PATHS = { create: "/webhooks/products/create", update: "/webhooks/products/update" };

export async function startShopifyEmulator(opts: ShopifyEmulatorOptions & { port?: number }): Promise<ShopifyEmulator> {
  loadAdminSchema();
  const store = new EmulatorStore({
    bucketSize: opts.bucketSize ?? 1000,
    restoreRate: opts.restoreRate ?? 50,
    scopes: opts.scopes ?? "read_products,write_products,write_files,read_locales",
    offlineTokenSeconds: opts.offlineTokenSeconds ?? 3_600,
  });
  const inFlight = new Set<Promise<void>>();
  // Shopify sends products/update when a product's media change, the app's own fileUpdate included.
  const files = new FileService(store, opts.fileReadyDelayMs ?? 50, (shop, file) => {
    const product = file.productId ? shop.productsById.get(file.productId) : undefined;
    if (product) void notifyProduct(shop, product, PRODUCT_UPDATE_TOPIC);
  });
  const cdn = new Cdn(store);
  const app = { apiKey: opts.apiKey, apiSecret: opts.apiSecret };
  const appUrl = opts.appUrl ?? process.env.SHOPIFY_APP_URL;
  const sent: SentWebhook[] = [];
  const hooks = new Map<string, () => Promise<void>>();
  const afterHooks = new Map<string, () => Promise<void>>();

  const buildWebhookRequest = (webhook: WebhookOptions): Request => {
    if (!appUrl) throw new Error("the Shopify stand-in has no appUrl to address webhooks to; pass appUrl to startShopifyEmulator");
    return buildSignedWebhookRequest(appUrl, opts.apiSecret, webhook);
  };
  const sendWebhook = (webhook: Omit<WebhookOptions, "secret">): Promise<Response> => fetch(buildWebhookRequest(webhook));

  /** Sends one webhook and records it (sentWebhooks); webhooksDelivered() waits for every one still on its way. */
  const deliver = (topic: string, shop: string, path: string, payload: unknown): Promise<void> => {
    const record: SentWebhook = { topic, shop, path, payload, status: null, error: null };
    sent.push(record);
    if (!appUrl) {
      record.error = "no appUrl configured";
      return Promise.resolve();
    }
    // Shopify retries a failed delivery later; what happened in the store stands either way.
    const delivery = sendWebhook({ topic, shop, payload, path }).then(
      async (response) => {
        record.status = response.status;
        await response.arrayBuffer();
      },
      (error: unknown) => {
        record.error = String(error);
      },
    );
    inFlight.add(delivery);
    void delivery.finally(() => inFlight.delete(delivery));
    return delivery;
  };
  const notifyPurchase = (purchase: PurchaseRecord): Promise<void> => {
    const shop = store.shop(purchase.shop);
    return deliver(
      PURCHASE_TOPIC,
      shop.domain,
      opts.purchaseWebhookPath ?? "/webhooks/app_purchases_one_time/update",
      purchaseWebhookPayload(purchase, shop),
    );
  };
  const productPaths = opts.productWebhooks === true ? DEFAULT_PRODUCT_WEBHOOK_PATHS : opts.productWebhooks || null;
  const notifyProduct = (
    shop: ShopState,
    product: ProductRecord,
    topic: typeof PRODUCT_CREATE_TOPIC | typeof PRODUCT_UPDATE_TOPIC,
  ): Promise<void> => {
    if (!productPaths) return Promise.resolve();
    product.updatedAt = new Date();
    const path = topic === PRODUCT_CREATE_TOPIC ? productPaths.create : productPaths.update;
    return deliver(topic, shop.domain, path, productWebhookPayload(store, shop, product));
  };
  const bulkFinishPath = opts.bulkFinishWebhookPath ?? "/webhooks/bulk_operations/finish";
  // Shopify sends bulk_operations/finish to an app subscribed to it; without an app URL there is nowhere to send it.
  const bulk = new BulkService(store, opts.bulkOperationMs ?? 200, (op) => {
    if (bulkFinishPath && appUrl) void deliver(BULK_FINISH_TOPIC, op.shop, bulkFinishPath, bulkFinishPayload(op));
  });
  const billing = new BillingService(store, opts.apiKey, randomHex(16), notifyPurchase);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error("shopify stand-in: request failed", error);
      if (!res.headersSent) send(res, 500, { errors: "Internal Server Error" });
      else res.end();
    });
  });
  outlastClientKeepAlive(server);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", store.baseUrl);
    let pathname = url.pathname;
    let shopDomain = header(req, "x-emulated-shop");
    const prefixed = /^\/shops\/([^/]+)(\/.*)$/.exec(pathname);
    if (prefixed) {
      shopDomain ??= decodeURIComponent(prefixed[1]!);
      pathname = prefixed[2]!;
    }
    const host = header(req, "host")?.split(":")[0];
    if (!shopDomain && host?.endsWith(".myshopify.com")) shopDomain = host;
    const method = req.method ?? "GET";

    if (method === "GET" && pathname === "/healthz") return send(res, 200, { ok: true });

    if (method === "POST" && pathname === "/admin/oauth/access_token") {
      const params = await readParams(req);
      const result = handleAccessTokenRequest(store, app, shopDomain, params);
      return send(res, result.status, result.body);
    }

    const graphqlPath = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(pathname);
    if (graphqlPath) {
      res.setHeader("X-Shopify-API-Version", EMULATED_API_VERSION);
      if (method !== "POST") return send(res, 405, { errors: "Method Not Allowed" });
      const tokenShop = store.tokenShop(header(req, "x-shopify-access-token"));
      if (!tokenShop || (shopDomain && tokenShop !== shopDomain)) {
        store.noteRefusedToken(header(req, "x-shopify-access-token"));
        return send(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
      }
      // Only the pinned version's schema is loaded; any other version is refused so a mis-pinned app fails in tests.
      if (graphqlPath[1] !== EMULATED_API_VERSION) {
        res.setHeader("X-Emulator-Hint", `the Shopify stand-in serves only API version ${EMULATED_API_VERSION}`);
        return send(res, 404, { errors: "Not Found" });
      }
      const bodyText = (await readBody(req)).toString("utf8");
      let body: GraphqlBody;
      try {
        body = (header(req, "content-type") ?? "").includes("application/graphql")
          ? { query: bodyText }
          : (JSON.parse(bodyText) as GraphqlBody);
      } catch {
        return send(res, 400, { errors: "Invalid JSON in request body" });
      }
      const operation = typeof body.operationName === "string" ? body.operationName : operationNameOf(body.query);
      // A frozen or locked shop: Shopify refuses every Admin API request of it, whatever the request.
      const shopState = store.shop(tokenShop);
      if (shopState.unavailable !== null) {
        shopState.refusedWhileUnavailable.push(operation);
        return send(res, shopState.unavailable, { errors: UNAVAILABLE_SHOP_ERRORS[shopState.unavailable] });
      }
      const hookKey = `${tokenShop}\n${operation}`;
      const hook = hooks.get(hookKey);
      if (hook) {
        hooks.delete(hookKey);
        await hook();
      }
      const ctx: ResolverContext = {
        store,
        shop: shopState,
        files,
        billing,
        bulk,
        apiKey: opts.apiKey,
        scopes: (store.tokens.get(header(req, "x-shopify-access-token") ?? "")?.scope ?? "").split(","),
        onProductCreated: (product) => void notifyProduct(shopState, product, PRODUCT_CREATE_TOPIC),
      };
      const result = await runGraphql(ctx, body);
      const afterHook = afterHooks.get(hookKey);
      if (afterHook) {
        afterHooks.delete(hookKey);
        await afterHook();
      }
      return send(res, result.status, result.body);
    }

    if ((method === "GET" || method === "HEAD") && pathname.startsWith("/cdn/shop/files/")) {
      const result = await cdn.serve(url);
      res.writeHead(result.status, result.headers);
      res.end(method === "HEAD" ? undefined : result.body);
      return;
    }

    const bulkOutput = /^\/bulk-operation-outputs\/([0-9a-f]+)\.jsonl$/.exec(pathname);
    if (bulkOutput && method === "GET") {
      const jsonl = bulk.jsonl(bulkOutput[1]!);
      if (jsonl === undefined) return sendXmlError(res, 404, "NoSuchKey", "The specified key does not exist.");
      return sendText(res, 200, "application/jsonl", jsonl);
    }

    const stagedPost = /^\/staged-uploads\/([0-9a-f]+)$/.exec(pathname);
    if (stagedPost && method === "POST") return receiveMultipartUpload(req, res, stagedPost[1]!);
    const stagedPut = /^\/staged-uploads\/([0-9a-f]+)\/[^/]+$/.exec(pathname);
    if (stagedPut && method === "PUT") {
      if (!url.searchParams.get("X-Goog-Signature"))
        return sendXmlError(res, 403, "AccessDenied", "The signed URL's signature is missing.");
      const result = files.receiveUpload(stagedPut[1]!, await readBody(req), { contentType: header(req, "content-type") });
      if (!result.ok) return sendXmlError(res, result.status, result.code, result.message);
      res.writeHead(200, { "Content-Length": "0" });
      res.end();
      return;
    }

    const charge = /^\/admin\/charges\/[^/]+\/(\d+)\/ApplicationCharge\/confirm_application_charge$/.exec(pathname);
    if (charge) {
      const purchase = billing.purchaseForConfirmation(Number(charge[1]), url.searchParams.get("signature"));
      if (!purchase) return sendText(res, 404, "text/plain", "This charge does not exist.");
      if (method === "GET") {
        return sendText(
          res,
          200,
          "text/html; charset=utf-8",
          confirmationPage(purchase, store.shop(purchase.shop).name, url.pathname + url.search),
        );
      }
      if (method === "POST") {
        const params = await readParams(req);
        if (params.decision !== "approve" && params.decision !== "decline")
          return sendText(res, 400, "text/plain", "decision must be approve or decline");
        await billing.decide(purchase, params.decision === "approve" ? "ACTIVE" : "DECLINED");
        res.writeHead(302, { Location: billing.returnUrlFor(purchase) });
        res.end();
        return;
      }
    }

    return send(res, 404, { errors: "Not Found" });
  }

  async function receiveMultipartUpload(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const body = await readBody(req);
    let form: FormData;
    try {
      form = await new Request("http://upload.invalid/", {
        method: "POST",
        headers: { "content-type": header(req, "content-type") ?? "" },
        body: new Uint8Array(body),
      }).formData();
    } catch {
      return sendXmlError(res, 400, "InvalidArgument", "The body is not multipart/form-data.");
    }
    const file = form.get("file");
    if (!file || typeof file === "string") return sendXmlError(res, 400, "InvalidArgument", "The form has no file field.");
    const key = form.get("key");
    const contentType = form.get("Content-Type");
    const result = files.receiveUpload(token, Buffer.from(await file.arrayBuffer()), {
      key: typeof key === "string" ? key : null,
      contentType: typeof contentType === "string" ? contentType : null,
    });
    if (!result.ok) return sendXmlError(res, result.status, result.code, result.message);
    const status = form.get("success_action_status") === "201" ? 201 : 204;
    if (status === 204) {
      res.writeHead(204);
      res.end();
      return;
    }
    const location = `${store.baseUrl}/staged-uploads/${token}`;
    return sendText(
      res,
      201,
      "application/xml",
      `<?xml version="1.0" encoding="UTF-8"?><PostResponse><Location>${location}</Location><Bucket>shopify-staged-uploads</Bucket><Key>${result.key}</Key></PostResponse>`,
    );
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  store.baseUrl = `http://127.0.0.1:${port}`;

  const purchase = (shop: string, id: string) => billing.findInShop(shop, id);
  const decideOrThrow = async (shop: string, id: string, status: "ACTIVE" | "DECLINED" | "EXPIRED") => {
    const record = purchase(shop, id);
    if (!(await billing.decide(record, status))) throw new Error(`purchase ${record.id} is already ${record.status}`);
  };

  return {
    url: store.baseUrl,
    async close() {
      files.close();
      bulk.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    addShop(shop, shopOpts) {
      store.addShop(shop, shopOpts);
    },
    setThrottle(shop, throttle) {
      store.shop(shop).bucket.configure(throttle);
    },
    products(shop) {
      const state = store.shop(shop);
      return state.products.map((product) => ({
        id: product.id,
        title: product.title,
        media: product.mediaIds.flatMap((id, index) => {
          const file = state.files.get(id);
          if (!file?.blob) return [];
          const blob = file.blob;
          const media = {
            id: file.id,
            position: index + 1,
            alt: file.alt,
            url: store.fileUrl(file)!,
            status: file.status,
            mimeType: blob.mimeType,
            width: blob.width,
            height: blob.height,
            replacements: file.replacements,
          } as EmulatedMedia;
          // Fixture photos render lazily; hashing one that was never served renders it on demand.
          Object.defineProperty(media, "sha256", { enumerable: true, get: () => store.blobSha256(blob) });
          return [media];
        }),
      }));
    },
    files(shop) {
      return [...store.shop(shop).files.values()]
        .filter((file) => file.createdByApp)
        .map((file) => {
          const blob = file.blob;
          const out = { id: file.id, url: store.fileUrl(file), status: file.status, alt: file.alt } as {
            id: string;
            url: string | null;
            status: string;
            alt: string | null;
            sha256: string | null;
          };
          Object.defineProperty(out, "sha256", { enumerable: true, get: () => (blob ? store.blobSha256(blob) : null) });
          return out;
        });
    },
    accessToken: (shop) => store.latestToken(shop),
    grantAccessToken(shop, token) {
      store.shop(shop);
      return store.issueToken(shop, "offline", { token });
    },
    tokenStats: (shop) => ({ ...store.tokenStats(shop) }),
    revokeRefreshTokens: (shop) => store.revokeRefreshTokens(shop),
    uninstallApp: (shop) => store.uninstallApp(shop),
    setShopUnavailable(shop, status) {
      store.shop(shop).unavailable = status;
    },
    refusedWhileUnavailable: (shop) => [...store.shop(shop).refusedWhileUnavailable],
    graphqlLog: (shop) => store.shop(shop).log.map((entry) => ({ ...entry })),
    setFailNextFileUpdate(shop, reason) {
      store.shop(shop).failNextFileUpdate = reason ?? "Image processing failed (forced by the test).";
    },
    beforeNextOperation(shop, operationName, hook) {
      hooks.set(`${shop}\n${operationName}`, hook);
    },
    afterNextOperation(shop, operationName, hook) {
      afterHooks.set(`${shop}\n${operationName}`, hook);
    },
    setSlowNextFileUpdate(shop, ms) {
      store.shop(shop).slowNextFileUpdateMs = ms;
    },
    holdNextProductMediaProcessing(shop, reads) {
      store.shop(shop).nextProductMediaProcessingReads = reads;
    },
    addCollection(shop, fields) {
      return store.addCollection(store.shop(shop), fields).id;
    },
    deleteMedia(shop, mediaId) {
      const state = store.shop(shop);
      if (!state.files.delete(mediaId)) throw new Error(`no media ${mediaId} in ${shop}`);
      for (const product of state.products) {
        if (!product.mediaIds.includes(mediaId)) continue;
        product.mediaIds = product.mediaIds.filter((id) => id !== mediaId);
        void notifyProduct(state, product, PRODUCT_UPDATE_TOPIC);
      }
    },
    async createProduct(shop, productOpts) {
      const state = store.shop(shop);
      const index = productOpts.productIndex ?? state.products.length;
      const product = store.addProduct(state, index, productOpts.images, ADDED_IMAGE_BASE + state.products.length * 8, new Date());
      if (productOpts.sendWebhook !== false) await notifyProduct(state, product, PRODUCT_CREATE_TOPIC);
      return { id: product.id, mediaIds: [...product.mediaIds], payload: productWebhookPayload(store, state, product) };
    },
    async addProductImages(shop, productId, count) {
      const state = store.shop(shop);
      const product = state.productsById.get(productId);
      if (!product) throw new Error(`no product ${productId} in ${shop}`);
      const added = Array.from({ length: count }, (_, k) => {
        const n = product.mediaIds.length + 1;
        return store.addProductImage(
          state,
          product,
          ADDED_IMAGE_BASE + state.products.length * 8 + n + k,
          { alt: `${product.title} view ${n}`, filename: `${product.handle}-added-${n}` },
          new Date(),
        ).id;
      });
      await notifyProduct(state, product, PRODUCT_UPDATE_TOPIC);
      return added;
    },
    async webhooksDelivered() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    purchases: (shop) =>
      store
        .shop(shop)
        .purchases.map((p) => ({ id: p.id, name: p.name, status: p.status, price: { ...p.price }, test: p.test, returnUrl: p.returnUrl })),
    approvePurchase: (shop, id) => decideOrThrow(shop, id, "ACTIVE"),
    declinePurchase: (shop, id) => decideOrThrow(shop, id, "DECLINED"),
    expirePurchase: (shop, id) => decideOrThrow(shop, id, "EXPIRED"),
    sentWebhooks: () => sent.map((w) => ({ ...w })),
    buildWebhookRequest,
    sendWebhook,
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A JSON or form-encoded body as a flat string map. */
async function readParams(req: IncomingMessage): Promise<Record<string, string>> {
  const text = (await readBody(req)).toString("utf8");
  if ((header(req, "content-type") ?? "").includes("application/json")) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v == null ? "" : String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendXmlError(res: ServerResponse, status: number, code: string, message: string): void {
  sendText(
    res,
    status,
    "application/xml",
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

function operationNameOf(query: unknown): string {
  return typeof query === "string" ? (/\b(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? "") : "";
}
