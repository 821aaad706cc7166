import { isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { Banner, Button, Page } from "@shopify/polaris";
import { boundary } from "@shopify/shopify-app-remix/server";

function messageOf(data: unknown): string | null {
  if (typeof data === "object" && data && "message" in data && typeof data.message === "string") return data.message;
  return null;
}

/**
 * Error state for every page: our own 4xx answers (not found, refused) and unexpected failures get a
 * Polaris page; Shopify's auth responses (App Bridge redirects) go through `boundary.error` so they work.
 */
export function RouteError({ title = "This page could not be loaded" }: { title?: string }) {
  const error = useRouteError();
  if (isRouteErrorResponse(error)) {
    const message = messageOf(error.data);
    if (error.status === 404 || message) {
      return (
        <Page title={error.status === 404 ? "Not found" : title} backAction={{ content: "Images", url: "/app" }}>
          <Banner tone={error.status === 404 ? "warning" : "critical"} title={message ?? "This page does not exist, or it belongs to another store."}>
            <p>{error.status === 404 ? "Check the link, or go back to your images." : "Try again, or go back to your images."}</p>
          </Banner>
        </Page>
      );
    }
    return boundary.error(error);
  }
  return (
    <Page title={title}>
      <Banner tone="critical" title="Something went wrong">
        <p>The app could not show this page. Reload to try again; your images and credits are safe.</p>
        <div style={{ marginTop: 12 }}>
          <Button onClick={() => window.location.reload()}>Reload</Button>
        </div>
      </Banner>
    </Page>
  );
}
