import { isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { Banner, Button, Page } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";
import { useTranslation } from "react-i18next";

function messageOf(data: unknown): string | null {
  if (typeof data === "object" && data && "message" in data && typeof data.message === "string") return data.message;
  return null;
}

/**
 * Error state for every page: our own 4xx answers (not found, refused) and unexpected failures get a
 * Polaris page; Shopify's auth responses (App Bridge redirects) go through `boundary.error` so they work.
 */
export function RouteError({ title: givenTitle }: { title?: string }) {
  const error = useRouteError();
  const { t } = useTranslation();
  const title = givenTitle ?? t("routeError.defaultTitle");
  if (isRouteErrorResponse(error)) {
    const message = messageOf(error.data);
    if (error.status === 404 || message) {
      return (
        <Page
          title={error.status === 404 ? t("routeError.notFoundTitle") : title}
          backAction={{ content: t("routeError.backToImages"), url: "/app" }}
        >
          <Banner tone={error.status === 404 ? "warning" : "critical"} title={message ?? t("routeError.notFoundMessage")}>
            <p>{error.status === 404 ? t("routeError.notFoundHint") : t("routeError.refusedHint")}</p>
          </Banner>
        </Page>
      );
    }
    return boundary.error(error);
  }
  return (
    <Page title={title}>
      <Banner tone="critical" title={t("routeError.crashTitle")}>
        <p>{t("routeError.crashBody")}</p>
        <div style={{ marginTop: 12 }}>
          <Button onClick={() => window.location.reload()}>{t("routeError.reload")}</Button>
        </div>
      </Banner>
    </Page>
  );
}
