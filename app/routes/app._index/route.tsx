import { useEffect, useMemo, useRef, useState } from "react";
import { json, type ActionFunctionArgs, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useNavigation } from "@remix-run/react";
import { Banner, BlockStack, Card, EmptyState, Page } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";
import { ImageGrid, groupByProduct, type GridImage } from "~/components/images/ImageGrid";
import imagesPageStyles from "~/components/images/images-page.css?url";
import { ProcessPanel } from "~/components/images/ProcessPanel";
import { RouteError } from "~/components/RouteError";
import { useMessageText } from "~/i18n/messages";
import type { ErrorPayload } from "~/lib/merchant-message";
import { checkRateLimit } from "~/lib/rate-limit.server";
import { MAX_SELECTION_BODY_BYTES, readTextCapped } from "~/lib/read-capped.server";
import { authenticate } from "~/shopify.server";
import { BLANK_IMAGE } from "./components/blank-image";
import { EmptyStoreCard } from "./components/EmptyStoreCard";
import { ImageFilters } from "./components/ImageFilters";
import { ImagesPagination } from "./components/ImagesPagination";
import { SelectionBar } from "./components/SelectionBar";
import { useImageSelection } from "./components/use-image-selection";
import { imagesPageData, startBatchFromSelection } from "./view-model.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { admin, session } = await authenticate.admin(request);
  return json(await imagesPageData(admin.graphql, session.shop, new URL(request.url)));
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { admin, session, redirect } = await authenticate.admin(request);
  const limited = await checkRateLimit("batch-create", session.shop);
  if (limited) return limited;
  const started = await startBatchFromSelection(admin.graphql, session.shop, await readTextCapped(request, MAX_SELECTION_BODY_BYTES));
  if (started instanceof Response) return started;
  return redirect(`/app/batches/${started.batchId}`);
};

export default function ImagesPage() {
  const data = useLoaderData<typeof loader>();
  const navigation = useNavigation();
  const fetcher = useFetcher<Partial<ErrorPayload>>();
  const messageText = useMessageText();
  const { t } = useTranslation();

  const [pipeline, setPipeline] = useState<string>(data.defaultPipeline);
  const images = data.images as GridImage[];
  const groups = useMemo(() => groupByProduct(images), [images]);
  const selection = useImageSelection(images);
  // The product of every image shown so far: sent with the selection so the server reads those products by id
  // instead of searching the catalogue for each image.
  const productOfMedia = useRef(new Map<string, string>());
  useEffect(() => {
    for (const image of images) productOfMedia.current.set(image.mediaId, image.productId);
  }, [images]);
  const loading = navigation.state === "loading" && navigation.location?.pathname === "/app";

  const submit = () => {
    const selected = [...selection.selected];
    const productIds = new Set(selected.flatMap((mediaId) => productOfMedia.current.get(mediaId) ?? []));
    fetcher.submit({ pipeline, mediaIds: JSON.stringify(selected), productIds: JSON.stringify([...productIds]) }, { method: "post" });
  };

  const content = !data.storeHasImages ? (
    <EmptyStoreCard />
  ) : (
    <Card>
      <BlockStack gap="400">
        <ImageFilters q={data.filters.q} status={data.filters.status} />
        <SelectionBar
          imagesOnPage={images.length}
          allOnPage={selection.allOnPage}
          selectedCount={selection.selected.size}
          onSelectAllOnPage={selection.selectAllOnPage}
          onClearSelection={selection.clear}
          pickedProducts={data.filters.productIds.length > 0}
          loading={loading}
        />
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
            <ImageGrid
              groups={groups}
              selected={selection.selected}
              onToggleImage={selection.toggleImage}
              onToggleProduct={selection.toggleProduct}
            />
          )}
        </div>
        <ImagesPagination status={data.filters.status} endCursor={data.pageInfo.endCursor} hasNextPage={data.pageInfo.hasNextPage} />
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
            selectedCount={selection.selected.size}
            creditsPerImage={data.creditsPerImage}
            available={data.balance.available}
            submitting={fetcher.state !== "idle"}
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
