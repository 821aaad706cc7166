import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import {
  Banner,
  BlockStack,
  Button,
  Card,
  EmptyState,
  InlineStack,
  Page,
  Pagination,
  Select,
  Spinner,
  Text,
  TextField,
} from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import { errorResponse } from "~/lib/error-response.server";
import { errorPayload, type ErrorPayload } from "~/lib/merchant-message";
import { checkRateLimit } from "~/lib/rate-limit.server";
import { MAX_SELECTION_BODY_BYTES, readTextCapped } from "~/lib/read-capped.server";
import { ImageGrid, groupByProduct, type GridImage, type ProductGroup } from "~/components/images/ImageGrid";
import {
  IMAGE_FILTERS,
  badgeStatusFor,
  hasPreviousPage,
  nextPageParams,
  previousPageParams,
  productSearchQuery,
} from "~/components/images/grid-model";
import imagesPageStyles from "~/components/images/images-page.css?url";
import { ProcessPanel } from "~/components/images/ProcessPanel";
import { RouteError } from "~/components/RouteError";
import { useMessageText } from "~/i18n/messages";
import prisma from "~/db.server";
import { PIPELINE_IDS, getPipeline, isPipelineId } from "~/imaging/pipelines";
import { logger } from "~/lib/logger.server";
import { BatchInputError, createBatch, imageStatuses } from "~/models/batches.server";
import { ShopifyApiError, ShopifyThrottledError } from "~/lib/admin-graphql.server";
import { listProductImages } from "~/models/catalog.server";
import { CREDITS_PER_IMAGE, InsufficientCreditsError, getBalance } from "~/models/credits.server";
import { getSettings } from "~/models/settings.server";
import { getQueue } from "~/queue/queue.server";
import { authenticate } from "~/shopify.server";

/** 50 products x 8 images keeps the one listing query under Shopify's 1,000-point single-query limit. */
export const PRODUCTS_PER_PAGE = 50;
export const IMAGES_PER_PRODUCT = 8;
const MAX_THROTTLE_WAIT_MS = 6000;
// EmptyState wants an illustration; the app ships none, and admin must not load one from elsewhere.
const BLANK_IMAGE = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

const searchSchema = z.object({
  q: z.string().trim().max(200).optional().default(""),
  status: z.enum(IMAGE_FILTERS).catch("all"),
  after: z.string().max(500).optional(),
  ids: z.string().max(5000).optional(),
});

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { admin, session } = await authenticate.admin(request);
  const shop = session.shop;
  const params = searchSchema.parse(Object.fromEntries(new URL(request.url).searchParams));
  const productIds = params.ids ? params.ids.split(",").filter(Boolean).slice(0, 50) : [];

  const [balance, settings] = await Promise.all([getBalance(prisma, shop), getSettings(prisma, shop)]);
  const pipelines = PIPELINE_IDS.map((id) => {
    const p = getPipeline(id);
    return { id: p.id as string, label: p.label, summary: p.summary, rules: p.rules };
  });
  const base = {
    filters: { q: params.q, status: params.status, productIds },
    balance: { available: balance.available },
    creditsPerImage: CREDITS_PER_IMAGE,
    defaultPipeline: settings.defaultPipeline as string,
    pipelines,
  };

  const listPage = () =>
    listProductImages(admin.graphql, {
      first: PRODUCTS_PER_PAGE,
      after: params.after || null,
      query: productSearchQuery(params.q, productIds),
      imagesPerProduct: IMAGES_PER_PRODUCT,
    });
  let page: Awaited<ReturnType<typeof listProductImages>>;
  try {
    try {
      page = await listPage();
    } catch (error) {
      // Paging quickly can empty the store's API bucket; one short wait beats an error page.
      if (!(error instanceof ShopifyThrottledError) || error.retryAfterMs > MAX_THROTTLE_WAIT_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      page = await listPage();
    }
  } catch (error) {
    if (error instanceof ShopifyThrottledError || error instanceof ShopifyApiError) {
      logger.warn({ shop, err: error.message }, "image listing failed");
      const loadError: LoadError = error instanceof ShopifyThrottledError ? "throttled" : "shopify";
      return json({ ...base, images: [] as GridImage[], pageInfo: { hasNextPage: false, endCursor: null }, storeHasImages: true, loadError });
    }
    throw error;
  }

  const statuses = await imageStatuses(prisma, shop, page.images.map((i) => i.mediaId));
  const all: GridImage[] = page.images.map((image) => {
    const latest = statuses.get(image.mediaId);
    const status = badgeStatusFor(latest?.state);
    return {
      mediaId: image.mediaId,
      productId: image.productId,
      productTitle: image.productTitle,
      url: image.url,
      alt: image.alt,
      position: image.position,
      status,
      pipeline: status === "processed" && latest ? latest.pipeline : null,
    };
  });
  const images = params.status === "all" ? all : all.filter((i) => i.status === params.status);
  const filtered = Boolean(params.q) || productIds.length > 0 || Boolean(params.after);
  return json({
    ...base,
    images,
    pageInfo: page.pageInfo,
    storeHasImages: filtered || all.length > 0,
    loadError: null as LoadError | null,
  });
};

/** Why the listing failed: Shopify throttled this store, or did not answer. */
type LoadError = "throttled" | "shopify";

const SELECTION_UNREADABLE = "The selection could not be read. Reload and select again.";

/** A form field holding a JSON array of gids of one type, at most `max` of them. */
function gidList(type: string, max: number) {
  return z.string().transform((raw, ctx) => {
    try {
      return z.array(z.string().startsWith(`gid://shopify/${type}/`).max(100)).max(max).parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: SELECTION_UNREADABLE });
      return z.NEVER;
    }
  });
}

const submitSchema = z.object({
  pipeline: z.string(),
  mediaIds: gidList("MediaImage", 1000),
  // The products of the selected images: a lookup hint (each image is still checked against Shopify).
  productIds: gidList("Product", 1000).optional(),
});

export const action = async ({ request }: ActionFunctionArgs) => {
  const { admin, session, redirect } = await authenticate.admin(request);
  const limited = await checkRateLimit("batch-create", session.shop);
  if (limited) return limited;
  const raw = await readTextCapped(request, MAX_SELECTION_BODY_BYTES);
  if (raw === null) {
    return json(errorPayload("The selection is too large to send at once. Select fewer images and try again.", { code: "selectionTooLarge" }), { status: 413 });
  }
  const parsed = submitSchema.safeParse(Object.fromEntries(new URLSearchParams(raw)));
  if (!parsed.success) return json(errorPayload(SELECTION_UNREADABLE, { code: "selectionUnreadable" }), { status: 400 });
  const { pipeline, mediaIds, productIds } = parsed.data;
  if (!isPipelineId(pipeline)) return json(errorPayload("Choose a pipeline: Amazon, eBay or Instagram.", { code: "choosePipeline" }), { status: 400 });
  try {
    const created = await createBatch({ db: prisma, graphql: admin.graphql, queue: getQueue() }, session.shop, { mediaIds, productIds, pipeline });
    return redirect(`/app/batches/${created.batchId}`);
  } catch (error) {
    if (error instanceof BatchInputError || error instanceof InsufficientCreditsError) return errorResponse(error);
    throw error;
  }
};

export default function ImagesPage() {
  const data = useLoaderData<typeof loader>();
  const [searchParams, setSearchParams] = useSearchParams();
  const navigation = useNavigation();
  const fetcher = useFetcher<Partial<ErrorPayload>>();
  const messageText = useMessageText();
  const shopify = useAppBridge();
  const { t } = useTranslation();

  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [pipeline, setPipeline] = useState<string>(data.defaultPipeline);
  const [query, setQuery] = useState(data.filters.q);
  const images = data.images as GridImage[];
  const groups = useMemo(() => groupByProduct(images), [images]);
  // The product of every image shown so far: sent with the selection so the server reads those products by id
  // instead of searching the catalogue for each image.
  const productOfMedia = useRef(new Map<string, string>());
  useEffect(() => {
    for (const image of images) productOfMedia.current.set(image.mediaId, image.productId);
  }, [images]);
  const loading = navigation.state === "loading" && navigation.location?.pathname === "/app";
  const submitting = fetcher.state !== "idle";

  // Debounced search: each change of the box reloads the page's products, at most every 400 ms.
  useEffect(() => {
    if (query === data.filters.q) return;
    const timer = setTimeout(() => {
      const next = new URLSearchParams(searchParams);
      if (query) next.set("q", query);
      else next.delete("q");
      next.delete("after");
      next.delete("prev");
      setSearchParams(next, { replace: true });
    }, 400);
    return () => clearTimeout(timer);
  }, [query, data.filters.q, searchParams, setSearchParams]);

  const toggleImage = useCallback((mediaId: string) => {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(mediaId)) next.delete(mediaId);
      else next.add(mediaId);
      return next;
    });
  }, []);
  const toggleProduct = useCallback((group: ProductGroup, select: boolean) => {
    setSelected((current) => {
      const next = new Set(current);
      for (const image of group.images) {
        if (select) next.add(image.mediaId);
        else next.delete(image.mediaId);
      }
      return next;
    });
  }, []);
  const allOnPage = images.length > 0 && images.every((i) => selected.has(i.mediaId));
  const selectAllOnPage = () =>
    setSelected((current) => {
      const next = new Set(current);
      for (const image of images) {
        if (allOnPage) next.delete(image.mediaId);
        else next.add(image.mediaId);
      }
      return next;
    });

  const setFilter = (status: string) => {
    const next = new URLSearchParams(searchParams);
    if (status === "all") next.delete("status");
    else next.set("status", status);
    setSearchParams(next);
  };

  const pickProducts = async () => {
    const picked = await shopify.resourcePicker({ type: "product", multiple: true, action: "select" });
    if (!picked || picked.length === 0) return;
    const next = new URLSearchParams();
    next.set("ids", picked.map((p) => p.id).join(","));
    setSearchParams(next);
  };
  const clearProducts = () => {
    const next = new URLSearchParams(searchParams);
    next.delete("ids");
    next.delete("after");
    next.delete("prev");
    setSearchParams(next);
  };

  const submit = () => {
    const productIds = new Set([...selected].flatMap((mediaId) => productOfMedia.current.get(mediaId) ?? []));
    fetcher.submit({ pipeline, mediaIds: JSON.stringify([...selected]), productIds: JSON.stringify([...productIds]) }, { method: "post" });
  };

  const content = !data.storeHasImages ? (
    <Card>
      <EmptyState
        heading={t("images.emptyStoreHeading")}
        action={{ content: t("images.emptyStoreAction"), url: "shopify:admin/products/new", target: "_top" }}
        image={BLANK_IMAGE}
      >
        <p>{t("images.emptyStoreBody")}</p>
      </EmptyState>
    </Card>
  ) : (
    <Card>
      <BlockStack gap="400">
        <InlineStack gap="300" align="space-between" blockAlign="end" wrap>
          <div style={{ flex: "1 1 200px" }}>
            <TextField
              label={t("images.search")}
              labelHidden
              placeholder={t("images.search")}
              autoComplete="off"
              value={query}
              onChange={setQuery}
              clearButton
              onClearButtonClick={() => setQuery("")}
            />
          </div>
          <div style={{ width: 230, flexShrink: 0 }}>
            <Select
              label={t("images.statusFilter")}
              labelInline
              options={IMAGE_FILTERS.map((f) => ({ label: t(`images.filters.${f}`), value: f }))}
              value={data.filters.status}
              onChange={setFilter}
            />
          </div>
          <Button onClick={pickProducts}>{t("images.chooseProducts")}</Button>
        </InlineStack>
        <InlineStack gap="300" blockAlign="center" align="space-between">
          <InlineStack gap="300" blockAlign="center">
            <Button onClick={selectAllOnPage} disabled={images.length === 0}>
              {allOnPage ? t("images.clearPageSelection") : t("images.selectAllOnPage", { count: images.length })}
            </Button>
            <Text as="span" tone="subdued">
              {t("images.selectedCount", { count: selected.size })}
            </Text>
            {selected.size > 0 ? (
              <Button variant="plain" onClick={() => setSelected(new Set())}>
                {t("images.clearSelection")}
              </Button>
            ) : null}
            {data.filters.productIds.length > 0 ? (
              <Button variant="plain" onClick={clearProducts}>
                {t("images.showAllProducts")}
              </Button>
            ) : null}
          </InlineStack>
          <div style={{ width: 20, height: 20 }}>{loading ? <Spinner size="small" accessibilityLabel={t("images.loadingImages")} /> : null}</div>
        </InlineStack>
        {data.loadError ? (
          <Banner tone="critical" title={t("images.loadErrorTitle")}>
            <p>{data.loadError === "throttled" ? t("images.loadErrorThrottled") : t("images.loadErrorShopify")}</p>
          </Banner>
        ) : null}
        <div style={{ opacity: loading ? 0.5 : 1, transition: "opacity 120ms" }} aria-busy={loading}>
          {images.length === 0 && !data.loadError ? (
            <EmptyState heading={t("images.noMatchHeading")} image={BLANK_IMAGE}>
              <p>{t("images.noMatchBody")}</p>
            </EmptyState>
          ) : (
            <ImageGrid groups={groups} selected={selected} onToggleImage={toggleImage} onToggleProduct={toggleProduct} />
          )}
        </div>
        <InlineStack align="center">
          <Pagination
            hasPrevious={hasPreviousPage(searchParams)}
            onPrevious={() => setSearchParams(previousPageParams(searchParams))}
            hasNext={data.pageInfo.hasNextPage && Boolean(data.pageInfo.endCursor)}
            onNext={() => data.pageInfo.endCursor && setSearchParams(nextPageParams(searchParams, data.pageInfo.endCursor))}
            label={
              data.filters.status === "all" ? t("images.paginationProducts") : t("images.paginationFiltered", { filter: t(`images.filters.${data.filters.status}`) })
            }
          />
        </InlineStack>
      </BlockStack>
    </Card>
  );

  return (
    <Page title={t("images.title")} subtitle={t("images.subtitle")}>
      <div className="images-page-columns">
        <div>{content}</div>
        <div>
          <ProcessPanel
            pipelines={data.pipelines}
            pipeline={pipeline}
            onPipelineChange={setPipeline}
            selectedCount={selected.size}
            creditsPerImage={data.creditsPerImage}
            available={data.balance.available}
            submitting={submitting}
            error={messageText(fetcher.data)}
            onSubmit={submit}
          />
        </div>
      </div>
    </Page>
  );
}

export function ErrorBoundary() {
  return <RouteError />;
}

export const links = () => [{ rel: "stylesheet", href: imagesPageStyles }];

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
