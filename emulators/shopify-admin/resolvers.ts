import { GraphQLError, isNonNullType, type GraphQLFieldResolver } from "graphql";
import type { BillingService } from "./billing";
import { paginate, type ConnectionArgs } from "./connection";
import type { BulkOperationRecord, BulkService } from "./bulk";
import type { FileService, UserErrorOut } from "./files";
import { parseProductQuery } from "./search";
import {
  inCollection,
  type CollectionRecord,
  type EmulatorStore,
  type FileRecord,
  type ProductRecord,
  type PurchaseRecord,
  type ShopState,
} from "./store";

export interface ResolverContext {
  store: EmulatorStore;
  shop: ShopState;
  files: FileService;
  billing: BillingService;
  bulk: BulkService;
  apiKey: string;
  /** The scopes of the request's access token: a field that needs one it lacks is refused (ACCESS_DENIED). */
  scopes: readonly string[];
  /** Shopify's products/create, for a product created through the Admin API. */
  onProductCreated(product: ProductRecord): void;
  /** Executing a bulk operation's query: connections are read whole. */
  inBulkQuery?: boolean;
}

type Obj = Record<string, unknown>;

/**
 * Reads fields off the plain objects built below; a function is called with the field's arguments.
 * A non-null field the stand-in does not model fails loudly instead of returning a made-up value.
 */
export const fieldResolver: GraphQLFieldResolver<unknown, ResolverContext> = (source, args, context, info) => {
  const value = (source as Obj | null)?.[info.fieldName];
  if (typeof value === "function") return (value as (a: unknown, c: ResolverContext) => unknown).call(source, args, context);
  if (value === undefined) {
    if (isNonNullType(info.returnType)) {
      throw new GraphQLError(`The Shopify stand-in does not implement ${info.parentType.name}.${info.fieldName}`, {
        extensions: { code: "NOT_IMPLEMENTED_IN_EMULATOR" },
      });
    }
    return null;
  }
  return value;
};

/** Shopify's answer to a field the token's scopes do not cover. */
function requireScope(ctx: ResolverContext, field: string, scope: string): void {
  if (ctx.scopes.includes(scope)) return;
  throw new GraphQLError(`Access denied for ${field} field. Required access: \`${scope}\` access scope.`, {
    extensions: {
      code: "ACCESS_DENIED",
      documentation: "https://shopify.dev/api/usage/access-scopes",
      requiredAccess: `\`${scope}\` access scope.`,
    },
  });
}

export function queryRoot(ctx: ResolverContext): Obj {
  return {
    shop: () => shopView(ctx),
    shopLocales: ({ published }: { published?: boolean | null }) => {
      requireScope(ctx, "shopLocales", "read_locales");
      void published; // The stand-in's shops have only their primary locale, always published.
      const names: Record<string, string> = { en: "English", es: "Spanish", fr: "French", de: "German" };
      return [
        {
          locale: ctx.shop.primaryLocale,
          name: names[ctx.shop.primaryLocale] ?? ctx.shop.primaryLocale,
          primary: true,
          published: true,
          marketWebPresences: [],
        },
      ];
    },
    products: (args: ConnectionArgs & { query?: string | null; sortKey?: string | null }) => productsConnection(ctx, args),
    product: ({ id }: { id: string }) => {
      const product = ctx.shop.productsById.get(id);
      return product ? productView(ctx, product) : null;
    },
    productByHandle: ({ handle }: { handle: string }) => {
      const product = ctx.shop.products.find((p) => p.handle === handle);
      return product ? productView(ctx, product) : null;
    },
    collections: (args: ConnectionArgs & { query?: string | null; sortKey?: string | null }) => {
      const matches = collectionMatcher(args.query);
      return paginate(
        ctx.shop.collections.filter(matches),
        args,
        (c) => ({ id: c.numericId, value: args.sortKey === "TITLE" ? c.title : c.numericId }),
        (c) => collectionView(ctx, c),
      );
    },
    collection: ({ id }: { id: string }) => {
      const collection = ctx.shop.collections.find((c) => c.id === id);
      return collection ? collectionView(ctx, collection) : null;
    },
    node: ({ id }: { id: string }) => nodeById(ctx, id),
    nodes: ({ ids }: { ids: string[] }) => ids.map((id) => nodeById(ctx, id)),
    files: (args: ConnectionArgs & { sortKey?: string | null }) => {
      const sortKey = args.sortKey ?? "ID";
      return paginate(
        [...ctx.shop.files.values()],
        args,
        (f) => ({ id: f.numericId, value: fileSortValue(f, sortKey) }),
        (f) => fileView(ctx, f),
      );
    },
    currentAppInstallation: () => appInstallationView(ctx),
    bulkOperation: ({ id }: { id: string }) => {
      const op = ctx.bulk.find(ctx.shop, id);
      return op ? bulkOperationView(op) : null;
    },
    currentBulkOperation: ({ type }: { type?: string | null }) => {
      const op = ctx.bulk.current(ctx.shop, type ?? "QUERY");
      return op ? bulkOperationView(op) : null;
    },
  };
}

export function mutationRoot(ctx: ResolverContext): Obj {
  return {
    stagedUploadsCreate: ({ input }: { input: Parameters<FileService["stagedUploadsCreate"]>[1] }) => {
      const result = ctx.files.stagedUploadsCreate(ctx.shop, input);
      return { stagedTargets: result.stagedTargets, userErrors: result.userErrors.map(userError) };
    },
    productCreate: ({
      product,
      media,
    }: {
      product?: ProductCreateFields | null;
      media?: Parameters<FileService["createProductMedia"]>[2] | null;
    }) => {
      const userErrors: UserErrorOut[] = [];
      if (!product?.title?.trim()) userErrors.push({ field: ["product", "title"], message: "Title can't be blank" });
      if (userErrors.length) return { product: null, shop: shopView(ctx), userErrors: userErrors.map(userError) };
      const created = ctx.store.createProduct(ctx.shop, { ...product!, title: product!.title!.trim() });
      // Shopify creates the product and reports media it refused as userErrors; media it accepted are processed later.
      const result = ctx.files.createProductMedia(ctx.shop, created, media ?? []);
      ctx.onProductCreated(created);
      return { product: productView(ctx, created), shop: shopView(ctx), userErrors: result.userErrors.map(userError) };
    },
    fileCreate: ({ files }: { files: Parameters<FileService["fileCreate"]>[1] }) => {
      const result = ctx.files.fileCreate(ctx.shop, files);
      return { files: result.files?.map((f) => fileView(ctx, f)) ?? null, userErrors: result.userErrors.map(filesUserError) };
    },
    fileUpdate: ({ files }: { files: Parameters<FileService["fileUpdate"]>[1] }) => {
      const result = ctx.files.fileUpdate(ctx.shop, files);
      return { files: result.files?.map((f) => fileView(ctx, f)) ?? null, userErrors: result.userErrors.map(filesUserError) };
    },
    fileAcknowledgeUpdateFailed: ({ fileIds }: { fileIds: string[] }) => {
      const result = ctx.files.acknowledgeUpdateFailed(ctx.shop, fileIds);
      return { files: result.files?.map((f) => fileView(ctx, f)) ?? null, userErrors: result.userErrors.map(filesUserError) };
    },
    bulkOperationRunQuery: ({ query }: { query: string; groupObjects: boolean }) => {
      const result = ctx.bulk.runQuery(ctx, query);
      return {
        bulkOperation: result.operation ? bulkOperationView(result.operation) : null,
        userErrors: result.userErrors.map((e) => ({
          __typename: "BulkOperationUserError",
          field: e.field,
          message: e.message,
          code: e.code ?? "INVALID",
        })),
      };
    },
    bulkOperationCancel: ({ id }: { id: string }) => {
      const result = ctx.bulk.cancel(ctx.shop, id);
      return { bulkOperation: result.operation ? bulkOperationView(result.operation) : null, userErrors: result.userErrors.map(userError) };
    },
    appPurchaseOneTimeCreate: (args: {
      name: string;
      price: { amount: unknown; currencyCode: string };
      returnUrl: string;
      test?: boolean | null;
    }) => {
      const result = ctx.billing.create(ctx.shop, args);
      return {
        appPurchaseOneTime: result.purchase ? purchaseView(result.purchase) : null,
        confirmationUrl: result.confirmationUrl,
        userErrors: result.userErrors.map(userError),
      };
    },
  };
}

interface ProductCreateFields {
  title?: string | null;
  handle?: string | null;
  status?: ProductRecord["status"] | null;
  vendor?: string | null;
  productType?: string | null;
  tags?: string[] | null;
}

function userError(e: UserErrorOut): Obj {
  return { __typename: "UserError", field: e.field, message: e.message };
}

function filesUserError(e: UserErrorOut): Obj {
  return { __typename: "FilesUserError", field: e.field, message: e.message, code: e.code ?? "INVALID" };
}

function nodeById(ctx: ResolverContext, id: string): Obj | null {
  const match = /^gid:\/\/shopify\/(\w+)\/(\d+)$/.exec(id);
  if (!match) return null;
  const [, type, num] = match;
  switch (type) {
    case "Product": {
      const product = ctx.shop.productsById.get(id);
      return product ? productView(ctx, product) : null;
    }
    case "MediaImage":
    case "GenericFile": {
      const file = ctx.shop.files.get(id);
      return file ? fileView(ctx, file) : null;
    }
    case "Collection": {
      const collection = ctx.shop.collections.find((c) => c.id === id);
      return collection ? collectionView(ctx, collection) : null;
    }
    case "BulkOperation": {
      const op = ctx.bulk.find(ctx.shop, id);
      return op ? bulkOperationView(op) : null;
    }
    case "AppPurchaseOneTime": {
      const purchase = ctx.shop.purchases.find((p) => p.id === id);
      return purchase ? purchaseView(purchase) : null;
    }
    case "Shop":
      return Number(num) === ctx.shop.numericId ? shopView(ctx) : null;
    case "AppInstallation":
      return Number(num) === ctx.shop.installationNumericId ? appInstallationView(ctx) : null;
    default:
      return null;
  }
}

function shopView(ctx: ResolverContext): Obj {
  const { shop } = ctx;
  const url = `https://${shop.domain}`;
  return {
    __typename: "Shop",
    id: `gid://shopify/Shop/${shop.numericId}`,
    name: shop.name,
    myshopifyDomain: shop.domain,
    email: `owner@${shop.domain}`,
    contactEmail: `owner@${shop.domain}`,
    shopOwnerName: "Shop Owner",
    currencyCode: "USD",
    enabledPresentmentCurrencies: ["USD"],
    ianaTimezone: "Etc/UTC",
    timezoneAbbreviation: "UTC",
    timezoneOffset: "+0000",
    timezoneOffsetMinutes: 0,
    weightUnit: "KILOGRAMS",
    unitSystem: "METRIC_SYSTEM",
    taxesIncluded: false,
    taxShipping: false,
    setupRequired: false,
    checkoutApiSupported: true,
    description: null,
    url,
    createdAt: "2025-01-01T00:00:00Z",
    updatedAt: "2025-01-01T00:00:00Z",
    primaryDomain: { __typename: "Domain", id: `gid://shopify/Domain/${shop.numericId}`, host: shop.domain, url, sslEnabled: true },
    domains: [{ __typename: "Domain", id: `gid://shopify/Domain/${shop.numericId}`, host: shop.domain, url, sslEnabled: true }],
    plan: shop.partnerDevelopment
      ? {
          __typename: "ShopPlan",
          displayName: "Development",
          publicDisplayName: "Development",
          partnerDevelopment: true,
          shopifyPlus: false,
        }
      : { __typename: "ShopPlan", displayName: "Basic", publicDisplayName: "Basic", partnerDevelopment: false, shopifyPlus: false },
    products: (args: ConnectionArgs & { query?: string | null; sortKey?: string | null }) => productsConnection(ctx, args),
  };
}

/** `title:` (prefix, case-insensitive) and plain terms on the title: what a collection picker searches by. */
function collectionMatcher(query: string | null | undefined): (c: CollectionRecord) => boolean {
  const term = (query ?? "")
    .replace(/^title:/i, "")
    .replace(/"/g, "")
    .trim()
    .toLowerCase();
  return term
    ? (c) =>
        c.title.toLowerCase().startsWith(term) ||
        c.title
          .toLowerCase()
          .split(/\s+/)
          .some((w) => w.startsWith(term))
    : () => true;
}

function collectionView(ctx: ResolverContext, collection: CollectionRecord): Obj {
  const members = () => ctx.shop.products.filter((p) => inCollection(collection, p));
  return {
    __typename: "Collection",
    id: collection.id,
    title: collection.title,
    handle: collection.handle,
    productsCount: () => ({ count: members().length, precision: "EXACT" }),
    ruleSet:
      collection.productType !== null
        ? { appliedDisjunctively: false, rules: [{ column: "TYPE", relation: "EQUALS", condition: collection.productType }] }
        : null,
  };
}

function productsConnection(ctx: ResolverContext, args: ConnectionArgs & { query?: string | null; sortKey?: string | null }) {
  const matches = parseProductQuery(args.query, ctx.shop.collections);
  const sortKey = args.sortKey ?? "ID";
  return paginate(
    ctx.shop.products.filter(matches),
    args,
    (p) => ({ id: p.numericId, value: productSortValue(p, sortKey) }),
    (p) => productView(ctx, p),
    { unbounded: ctx.inBulkQuery },
  );
}

function productSortValue(p: ProductRecord, sortKey: string): string | number {
  switch (sortKey) {
    case "TITLE":
      return p.title;
    case "CREATED_AT":
    case "PUBLISHED_AT":
      return p.createdAt.getTime();
    case "UPDATED_AT":
      return p.updatedAt.getTime();
    case "PRODUCT_TYPE":
      return p.productType;
    case "VENDOR":
      return p.vendor;
    case "INVENTORY_TOTAL":
      return 0;
    default:
      return p.numericId;
  }
}

function fileSortValue(f: FileRecord, sortKey: string): string | number {
  switch (sortKey) {
    case "CREATED_AT":
      return f.createdAt.getTime();
    case "UPDATED_AT":
      return f.updatedAt.getTime();
    case "FILENAME":
      return f.filename;
    default:
      return f.numericId;
  }
}

function productMedia(ctx: ResolverContext, product: ProductRecord): FileRecord[] {
  return product.mediaIds.map((id) => ctx.shop.files.get(id)).filter((f): f is FileRecord => Boolean(f));
}

function productView(ctx: ResolverContext, product: ProductRecord): Obj {
  const media = () => productMedia(ctx, product);
  const firstImage = () => media().find((f) => f.blob);
  return {
    __typename: "Product",
    id: product.id,
    legacyResourceId: String(product.numericId),
    title: product.title,
    handle: product.handle,
    status: product.status,
    vendor: product.vendor,
    productType: product.productType,
    tags: product.tags,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
    publishedAt: product.status === "ACTIVE" ? product.createdAt.toISOString() : null,
    description: "",
    descriptionHtml: "",
    onlineStoreUrl: product.status === "ACTIVE" ? `https://${ctx.shop.domain}/products/${product.handle}` : null,
    onlineStorePreviewUrl: `https://${ctx.shop.domain}/products/${product.handle}`,
    totalInventory: 0,
    tracksInventory: false,
    isGiftCard: false,
    hasOnlyDefaultVariant: true,
    hasOutOfStockVariants: false,
    requiresSellingPlan: false,
    templateSuffix: null,
    seo: { __typename: "SEO", title: null, description: null },
    mediaCount: { __typename: "Count", count: product.mediaIds.length, precision: "EXACT" },
    media: (args: ConnectionArgs & { sortKey?: string | null }) => {
      const list = media();
      return paginate(
        list,
        args,
        (f) => ({ id: f.numericId, value: args.sortKey === "ID" ? f.numericId : list.indexOf(f) }),
        (f) => fileView(ctx, f),
        { unbounded: ctx.inBulkQuery },
      );
    },
    featuredMedia: () => {
      const first = media()[0];
      return first ? fileView(ctx, first) : null;
    },
    featuredImage: () => {
      const file = firstImage();
      return file ? imageView(ctx, file) : null;
    },
    images: (args: ConnectionArgs) => {
      const withImages = media().filter((f) => f.blob);
      return paginate(
        withImages,
        args,
        (f) => ({ id: f.numericId, value: withImages.indexOf(f) }),
        (f) => imageView(ctx, f),
      );
    },
  };
}

export function fileView(ctx: ResolverContext, file: FileRecord): Obj {
  if (file.processingForReads > 0) file.processingForReads--;
  const blob = file.blob;
  const errors = file.fileErrors.map((e) => ({ ...e }));
  const image = file.typename === "MediaImage" ? imageView(ctx, file) : null;
  const common = {
    id: file.id,
    alt: file.alt,
    fileStatus: file.status,
    fileErrors: errors.map((e) => ({ __typename: "FileError", ...e })),
    createdAt: file.createdAt.toISOString(),
    updatedAt: file.updatedAt.toISOString(),
    preview: { __typename: "MediaPreviewImage", image, status: file.status },
  };
  if (file.typename === "GenericFile") {
    return {
      __typename: "GenericFile",
      ...common,
      mimeType: blob?.mimeType ?? null,
      url: file.status === "READY" ? ctx.store.fileUrl(file) : null,
      originalFileSize: async () => (blob ? (await ctx.store.blobBytes(blob)).length : null),
    };
  }
  return {
    __typename: "MediaImage",
    ...common,
    status: file.status,
    mediaContentType: "IMAGE",
    mimeType: blob?.mimeType ?? null,
    image,
    mediaErrors: errors.map((e) => ({ __typename: "MediaError", ...e })),
    mediaWarnings: [],
    translations: [],
    originalSource: () =>
      blob
        ? {
            __typename: "MediaImageOriginalSource",
            url: file.originalSourceUrl ?? ctx.store.fileUrl(file),
            fileSize: async () => (await ctx.store.blobBytes(blob)).length,
          }
        : null,
  };
}

function imageView(ctx: ResolverContext, file: FileRecord): Obj | null {
  const blob = file.blob;
  if (!blob) return null;
  const transformed = (t?: { maxWidth?: number | null; maxHeight?: number | null } | null) =>
    ctx.store.fileUrl(file, { width: t?.maxWidth, height: t?.maxHeight });
  return {
    __typename: "Image",
    id: `gid://shopify/ImageSource/${file.numericId}`,
    altText: file.alt,
    width: blob.width,
    height: blob.height,
    thumbhash: null,
    url: ({ transform }: { transform?: { maxWidth?: number | null; maxHeight?: number | null } | null }) => transformed(transform),
    src: ctx.store.fileUrl(file),
    originalSrc: ctx.store.fileUrl(file),
    transformedSrc: (args: { maxWidth?: number | null; maxHeight?: number | null }) => transformed(args),
    translations: [],
  };
}

function appInstallationView(ctx: ResolverContext): Obj {
  const { shop } = ctx;
  const scopes = ctx.store.options.scopes
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const launchUrl = `https://admin.shopify.com/store/${shop.domain.replace(/\.myshopify\.com$/, "")}/apps/${ctx.apiKey}`;
  return {
    __typename: "AppInstallation",
    id: `gid://shopify/AppInstallation/${shop.installationNumericId}`,
    launchUrl,
    uninstallUrl: null,
    accessScopes: scopes.map((handle) => ({ __typename: "AccessScope", handle, description: handle })),
    activeSubscriptions: [],
    subscriptions: [],
    oneTimePurchases: (args: ConnectionArgs) =>
      paginate(
        shop.purchases,
        args,
        (p) => ({ id: p.numericId, value: p.createdAt.getTime() }),
        (p) => purchaseView(p),
      ),
  };
}

function purchaseView(purchase: PurchaseRecord): Obj {
  return {
    __typename: "AppPurchaseOneTime",
    id: purchase.id,
    name: purchase.name,
    status: purchase.status,
    test: purchase.test,
    price: { __typename: "MoneyV2", amount: purchase.price.amount, currencyCode: purchase.price.currencyCode },
    createdAt: purchase.createdAt.toISOString(),
  };
}

function bulkOperationView(op: BulkOperationRecord): Obj {
  return {
    __typename: "BulkOperation",
    id: op.id,
    status: op.status,
    type: op.type,
    query: op.query,
    errorCode: op.errorCode,
    createdAt: op.createdAt.toISOString(),
    completedAt: op.completedAt?.toISOString() ?? null,
    objectCount: String(op.objectCount),
    rootObjectCount: String(op.rootObjectCount),
    fileSize: op.fileSize === null ? null : String(op.fileSize),
    url: op.url,
    partialDataUrl: null,
  };
}
