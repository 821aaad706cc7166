import { randomInt } from "node:crypto";
import { defaultImagesPerProduct, productSeed, slugify, type ProductStatus } from "./catalog";
import { fixtureImageInfo, renderedFixtureImage, renderFixtureImage, renderFixtureImageSync, sha256Hex } from "./fixture-images";
import { LeakyBucket } from "./throttle";

export type FileStatus = "UPLOADED" | "PROCESSING" | "READY" | "FAILED";

/** Bytes behind a CDN URL. Fixture photos are rendered on first use; uploads carry their bytes. */
export interface BlobRecord {
  id: number;
  stem: string;
  ext: string;
  mimeType: string;
  width: number;
  height: number;
  createdAt: Date;
  fixtureIndex?: number;
  bytes?: Buffer;
}

export interface FileErrorRecord {
  code: string;
  message: string;
  details: string | null;
}

export interface FileRecord {
  id: string;
  numericId: number;
  typename: "MediaImage" | "GenericFile";
  shop: string;
  alt: string | null;
  status: FileStatus;
  /** Current content; kept while a replacement is processing or after it failed. */
  blob: BlobRecord | null;
  fileErrors: FileErrorRecord[];
  filename: string;
  originalSourceUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  productId: string | null;
  createdByApp: boolean;
  /** Bumped whenever processing starts, so a superseded run does not overwrite a newer one. */
  generation: number;
  /** How many fileUpdate calls gave this file a new source (a test asserts one replacement per edit). */
  replacements: number;
  /** Reads through the Admin API for which the file still shows PROCESSING, however long its processing takes. */
  processingForReads: number;
}

export interface ProductRecord {
  id: string;
  numericId: number;
  title: string;
  handle: string;
  status: ProductStatus;
  vendor: string;
  productType: string;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  mediaIds: string[];
}

/**
 * A collection: smart (every product of a type, the rule Shopify merchants use most) or custom (products added by
 * hand). The seeded catalogue gets one smart collection per product type.
 */
export interface CollectionRecord {
  id: string;
  numericId: number;
  title: string;
  handle: string;
  productType: string | null;
  productIds: Set<string>;
}

export function inCollection(collection: CollectionRecord, product: ProductRecord): boolean {
  return collection.productType !== null ? product.productType === collection.productType : collection.productIds.has(product.id);
}

export interface StagedUpload {
  token: string;
  shop: string;
  resource: string;
  filename: string;
  mimeType: string;
  httpMethod: "POST" | "PUT";
  fileSize: number | null;
  key: string;
  bytes: Buffer | null;
}

export type PurchaseStatus = "PENDING" | "ACCEPTED" | "ACTIVE" | "DECLINED" | "EXPIRED";

export interface PurchaseRecord {
  id: string;
  numericId: number;
  shop: string;
  name: string;
  price: { amount: string; currencyCode: string };
  returnUrl: string;
  test: boolean;
  status: PurchaseStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface GraphqlLogEntry {
  operationName: string | null;
  requestedCost: number;
  throttled: boolean;
  at: number;
}

export interface ShopState {
  domain: string;
  name: string;
  numericId: number;
  installationNumericId: number;
  bucket: LeakyBucket;
  products: ProductRecord[];
  productsById: Map<string, ProductRecord>;
  collections: CollectionRecord[];
  files: Map<string, FileRecord>;
  purchases: PurchaseRecord[];
  log: GraphqlLogEntry[];
  failNextFileUpdate: string | null;
  /**
   * Shopify answers every Admin API request of a frozen shop (unpaid Shopify bill) with 402 Payment Required and of a
   * locked one with 423 Locked; null while the shop is open.
   */
  unavailable: ShopUnavailableStatus | null;
  /** Operation names of the Admin API requests refused while the shop was frozen or locked, oldest first. */
  refusedWhileUnavailable: string[];
  /** The next fileUpdate with a new source takes this long to become READY (or FAILED), instead of the usual delay. */
  slowNextFileUpdateMs: number | null;
  /** Media of the next product created through the Admin API stay PROCESSING for this many reads (see FileRecord). */
  nextProductMediaProcessingReads: number;
  /** A development store (Partner Dashboard) never pays for app charges; Shopify reports it as `plan.partnerDevelopment`. */
  partnerDevelopment: boolean;
  primaryLocale: string;
  /** The scopes the merchant granted this app, when not every scope it asks for (StoreOptions.scopes). */
  grantedScopes: string | null;
}

/** 402: frozen (the merchant has not paid Shopify's bill); 423: locked (Shopify shut the shop for another reason). */
export type ShopUnavailableStatus = 402 | 423;

export interface TokenRecord {
  shop: string;
  mode: "offline" | "online";
  scope: string;
  expiresAt: number | null;
  userId?: number;
}

export interface AddShopOptions {
  products?: number;
  imagesPerProduct?: number | ((productIndex: number) => number);
  bucketSize?: number;
  restoreRate?: number;
  firstImageIndex?: number;
  /**
   * Every product's photos are drawn from this many small (800x600) fixture photos: a huge catalogue is cheap to
   * generate and to process (the app's result cache recognises a photo it already edited).
   */
  sharedPhotos?: number;
  /**
   * Every image is its own small (800x600) fixture photo: distinct bytes (no result-cache hits) at a quarter of the
   * average fixture's pixels, for tests about queueing and recovery rather than pixels.
   */
  smallPhotos?: boolean;
  /** Default true: stores made for testing an app are development stores. */
  partnerDevelopment?: boolean;
  /** The shop's primary language (shopLocales), "en" unless given. */
  primaryLocale?: string;
  /** The scopes its tokens carry, comma-separated; default: every scope the app asks for. */
  grantedScopes?: string;
}

export interface StoreOptions {
  bucketSize: number;
  restoreRate: number;
  scopes: string;
  /** Lifetime of an expiring offline access token (Shopify: 3,600 s). */
  offlineTokenSeconds: number;
}

/** What a shop's tokens went through, for tests that count refreshes (Shopify rotates refresh tokens). */
export interface TokenStats {
  refreshes: number;
  /** Refresh requests that presented a refresh token already exchanged once. */
  refreshTokenReuses: number;
  /** Non-expiring offline tokens exchanged for expiring ones. */
  migrations: number;
  /** Admin API requests refused because their access token had expired. */
  expiredTokenRejections: number;
}

/** All state of one stand-in: shops, their catalogue and files, tokens, staged uploads. */
export class EmulatorStore {
  baseUrl = "";
  readonly shops = new Map<string, ShopState>();
  /** Every file of every shop by numeric id: CDN URLs name the file, not its current bytes. */
  private readonly filesByNumericId = new Map<number, FileRecord>();
  readonly staged = new Map<string, StagedUpload>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly refreshTokens = new Map<string, { shop: string; scope: string; expiresAt: number }>();
  /** Refresh tokens already exchanged (rotated out) or revoked, with the reason a reuse is refused. */
  readonly spentRefreshTokens = new Map<string, "rotated" | "revoked">();
  /** Non-expiring token -> the expiring pair it was migrated to (a lost migration response can be fetched again). */
  readonly migratedTokens = new Map<string, { access_token: string; refresh_token: string }>();
  private readonly stats = new Map<string, TokenStats>();
  private latestOfflineToken = new Map<string, string>();
  // A random base per instance: stand-ins in parallel test files must not hand out the same purchase or file ids.
  private nextNumericId = 1_000_000_001 + randomInt(0, 2 ** 40);
  private nextBlobId = 1;

  constructor(readonly options: StoreOptions) {}

  newId(): number {
    return this.nextNumericId++;
  }

  addShop(domain: string, opts: AddShopOptions = {}): ShopState {
    if (this.shops.has(domain)) throw new Error(`shop ${domain} was already added to the Shopify stand-in`);
    const shop: ShopState = {
      domain,
      name: shopDisplayName(domain),
      numericId: this.newId(),
      installationNumericId: this.newId(),
      bucket: new LeakyBucket(opts.bucketSize ?? this.options.bucketSize, opts.restoreRate ?? this.options.restoreRate),
      products: [],
      productsById: new Map(),
      collections: [],
      files: new Map(),
      purchases: [],
      log: [],
      failNextFileUpdate: null,
      unavailable: null,
      refusedWhileUnavailable: [],
      slowNextFileUpdateMs: null,
      nextProductMediaProcessingReads: 0,
      partnerDevelopment: opts.partnerDevelopment ?? true,
      primaryLocale: opts.primaryLocale ?? "en",
      grantedScopes: opts.grantedScopes ?? null,
    };
    this.shops.set(domain, shop);
    const count = opts.products ?? 0;
    const perProduct = opts.imagesPerProduct ?? defaultImagesPerProduct;
    let imageIndex = opts.firstImageIndex ?? 0;
    for (let p = 0; p < count; p++) {
      const imageCount = typeof perProduct === "number" ? perProduct : perProduct(p);
      const shared = opts.sharedPhotos;
      const fixtureFor = shared ? (i: number) => SMALL_FIXTURE(i % shared) : opts.smallPhotos ? SMALL_FIXTURE : undefined;
      this.addProduct(shop, p, imageCount, imageIndex, undefined, fixtureFor);
      imageIndex += imageCount;
    }
    for (const productType of new Set(shop.products.map((p) => p.productType).filter(Boolean)))
      this.addCollection(shop, { title: productType, productType });
    return shop;
  }

  addCollection(shop: ShopState, fields: { title: string; productType?: string; productIds?: string[] }): CollectionRecord {
    const numericId = this.newId();
    const collection: CollectionRecord = {
      id: `gid://shopify/Collection/${numericId}`,
      numericId,
      title: fields.title,
      handle: fields.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, ""),
      productType: fields.productType ?? null,
      productIds: new Set(fields.productIds ?? []),
    };
    shop.collections.push(collection);
    return collection;
  }

  /** A product the way productCreate makes it: a unique handle from the title (or the one asked for), no media yet. */
  createProduct(
    shop: ShopState,
    fields: {
      title: string;
      handle?: string | null;
      status?: ProductStatus | null;
      vendor?: string | null;
      productType?: string | null;
      tags?: string[] | null;
    },
  ): ProductRecord {
    const taken = new Set(shop.products.map((p) => p.handle));
    const base = slugify(fields.handle || fields.title) || "product";
    let handle = base;
    for (let n = 1; taken.has(handle); n++) handle = `${base}-${n}`;
    const numericId = this.newId();
    const now = new Date();
    const product: ProductRecord = {
      id: `gid://shopify/Product/${numericId}`,
      numericId,
      title: fields.title,
      handle,
      status: fields.status ?? "ACTIVE",
      vendor: fields.vendor ?? shop.name,
      productType: fields.productType ?? "",
      tags: fields.tags ?? [],
      createdAt: now,
      updatedAt: now,
      mediaIds: [],
    };
    shop.products.push(product);
    shop.productsById.set(product.id, product);
    return product;
  }

  /**
   * The catalogue's product number `productIndex` with `imageCount` fixture photos (from `firstImageIndex` on).
   * `createdAt` defaults to the seeded catalogue's date; a product added later (createProduct) is created now.
   */
  addProduct(
    shop: ShopState,
    productIndex: number,
    imageCount: number,
    firstImageIndex: number,
    createdAt?: Date,
    fixtureFor: (imageIndex: number) => number = (i) => i,
  ): ProductRecord {
    const seed = productSeed(productIndex, imageCount);
    const at = createdAt ?? seed.createdAt;
    const numericId = this.newId();
    const product: ProductRecord = {
      id: `gid://shopify/Product/${numericId}`,
      numericId,
      title: seed.title,
      handle: seed.handle,
      status: seed.status,
      vendor: seed.vendor,
      productType: seed.productType,
      tags: seed.tags,
      createdAt: at,
      updatedAt: at,
      mediaIds: [],
    };
    seed.images.forEach((image, k) => this.addProductImage(shop, product, fixtureFor(firstImageIndex + k), image, at));
    shop.products.push(product);
    shop.productsById.set(product.id, product);
    return product;
  }

  /** A READY fixture photo appended to the product's media. */
  addProductImage(
    shop: ShopState,
    product: ProductRecord,
    imageIndex: number,
    image: { alt: string; filename: string },
    createdAt: Date,
  ): FileRecord {
    const blob = this.addFixtureBlob(imageIndex, image.filename, createdAt);
    const file = this.createFileRecord(shop, {
      typename: "MediaImage",
      alt: image.alt,
      status: "READY",
      blob,
      filename: `${image.filename}.${blob.ext}`,
      productId: product.id,
      createdByApp: false,
      createdAt,
    });
    product.mediaIds.push(file.id);
    return file;
  }

  shop(domain: string): ShopState {
    const shop = this.shops.get(domain);
    if (!shop) throw new Error(`shop ${domain} is not in the Shopify stand-in; call addShop("${domain}") first`);
    return shop;
  }

  createFileRecord(
    shop: ShopState,
    fields: Pick<FileRecord, "typename" | "alt" | "status" | "blob" | "filename" | "productId" | "createdByApp"> & {
      createdAt?: Date;
      originalSourceUrl?: string | null;
    },
  ): FileRecord {
    const numericId = this.newId();
    const createdAt = fields.createdAt ?? new Date();
    const file: FileRecord = {
      id: `gid://shopify/${fields.typename}/${numericId}`,
      numericId,
      shop: shop.domain,
      fileErrors: [],
      originalSourceUrl: fields.originalSourceUrl ?? null,
      createdAt,
      updatedAt: createdAt,
      generation: 0,
      replacements: 0,
      processingForReads: 0,
      ...fields,
    };
    shop.files.set(file.id, file);
    this.filesByNumericId.set(numericId, file);
    return file;
  }

  addFixtureBlob(fixtureIndex: number, stem: string, createdAt: Date): BlobRecord {
    const info = fixtureImageInfo(fixtureIndex);
    return {
      id: this.nextBlobId++,
      stem,
      ext: info.ext,
      mimeType: info.mimeType,
      width: info.width,
      height: info.height,
      createdAt,
      fixtureIndex,
    };
  }

  addBlob(bytes: Buffer, meta: { stem: string; ext: string; mimeType: string; width: number; height: number }): BlobRecord {
    return { id: this.nextBlobId++, ...meta, stem: slugify(meta.stem) || "file", createdAt: new Date(), bytes };
  }

  async blobBytes(blob: BlobRecord): Promise<Buffer> {
    if (blob.bytes) return blob.bytes;
    return renderFixtureImage(blob.fixtureIndex!);
  }

  blobBytesSync(blob: BlobRecord): Buffer {
    if (blob.bytes) return blob.bytes;
    return renderedFixtureImage(blob.fixtureIndex!) ?? renderFixtureImageSync(blob.fixtureIndex!);
  }

  blobSha256(blob: BlobRecord): string {
    return sha256Hex(this.blobBytesSync(blob));
  }

  /**
   * CDN URL of a file, in the shape of Shopify's `cdn/shop/files/<name>.<ext>?v=<version>`. Like
   * Shopify's, the path stays the same when fileUpdate replaces the content; only `v` changes, and
   * the path always serves the current content.
   */
  fileUrl(file: FileRecord, transform?: { width?: number | null; height?: number | null }): string | null {
    const blob = file.blob;
    if (!blob) return null;
    const stem = slugify(file.filename.replace(/\.[^.]*$/, "")) || "file";
    const ext = /\.([a-z0-9]+)$/i.exec(file.filename)?.[1]?.toLowerCase() ?? blob.ext;
    const url = new URL(`${this.baseUrl}/cdn/shop/files/${stem}_${file.numericId}.${ext}`);
    url.searchParams.set("v", String(blob.createdAt.getTime()));
    if (transform?.width) url.searchParams.set("width", String(transform.width));
    if (transform?.height) url.searchParams.set("height", String(transform.height));
    return url.toString();
  }

  /** The file behind one of this stand-in's CDN URLs, if it is one. */
  fileForUrl(rawUrl: string): FileRecord | undefined {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return undefined;
    }
    if (url.origin !== new URL(this.baseUrl).origin) return undefined;
    const match = /^\/cdn\/shop\/files\/(?:.*_)?(\d+)\.[a-z0-9]+$/i.exec(url.pathname);
    return match ? this.filesByNumericId.get(Number(match[1])) : undefined;
  }

  /** The scopes a shop's tokens carry. */
  scopesOf(shop: string): string {
    return this.shops.get(shop)?.grantedScopes ?? this.options.scopes;
  }

  issueToken(shop: string, mode: "offline" | "online", opts: { token?: string; expiresInSeconds?: number; userId?: number } = {}): string {
    const token = opts.token ?? `${mode === "offline" ? "shpat" : "shpua"}_${randomHex(16)}`;
    this.tokens.set(token, {
      shop,
      mode,
      scope: this.scopesOf(shop),
      expiresAt: opts.expiresInSeconds ? Date.now() + opts.expiresInSeconds * 1000 : null,
      userId: opts.userId,
    });
    if (mode === "offline") this.latestOfflineToken.set(shop, token);
    return token;
  }

  tokenStats(shop: string): TokenStats {
    let stats = this.stats.get(shop);
    if (!stats) this.stats.set(shop, (stats = { refreshes: 0, refreshTokenReuses: 0, migrations: 0, expiredTokenRejections: 0 }));
    return stats;
  }

  /** Revokes every refresh token of the shop (as when the merchant or Shopify revokes the app's access). */
  revokeRefreshTokens(shop: string): number {
    let revoked = 0;
    for (const [token, record] of this.refreshTokens) {
      if (record.shop !== shop) continue;
      this.refreshTokens.delete(token);
      this.spentRefreshTokens.set(token, "revoked");
      revoked++;
    }
    return revoked;
  }

  /** The merchant uninstalls the app: every token of the shop stops working at once (a new install issues new ones). */
  uninstallApp(shop: string): void {
    for (const [token, record] of this.tokens) if (record.shop === shop) this.tokens.delete(token);
    this.latestOfflineToken.delete(shop);
    this.revokeRefreshTokens(shop);
  }

  /** Counts a refused Admin API request when its token had been valid and ran out. */
  noteRefusedToken(token: string | null | undefined): void {
    const record = token ? this.tokens.get(token) : undefined;
    if (record && record.expiresAt !== null && record.expiresAt <= Date.now()) this.tokenStats(record.shop).expiredTokenRejections++;
  }

  latestToken(shop: string): string | undefined {
    return this.latestOfflineToken.get(shop);
  }

  /** The shop a valid, unexpired token was issued for. */
  tokenShop(token: string | null | undefined): string | undefined {
    if (!token) return undefined;
    const record = this.tokens.get(token);
    if (!record) return undefined;
    if (record.expiresAt !== null && record.expiresAt <= Date.now()) return undefined;
    return record.shop;
  }
}

/** Fixture photos cycle through six sizes; every sixth from index 4 is 800x600, each a different photo. */
const SMALL_FIXTURE = (imageIndex: number) => 4 + 6 * imageIndex;

function shopDisplayName(domain: string): string {
  const handle = domain.replace(/\.myshopify\.com$/, "");
  return handle
    .split(/[-_]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}
