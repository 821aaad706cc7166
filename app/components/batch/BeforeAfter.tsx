import { BlockStack, InlineStack, Spinner, Text } from "@shopify/polaris";
import { thumbnailUrl } from "~/components/images/grid-model";
import { useAuthenticatedObjectUrl } from "./useAuthenticatedObjectUrl";

const SIZE = 320;

function Frame({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <BlockStack gap="100">
      <Text as="h4" variant="headingSm">
        {title}
      </Text>
      <div
        style={{
          width: SIZE,
          height: SIZE,
          borderRadius: 8,
          border: "1px solid var(--p-color-border)",
          // A checkerboard shows where the result is transparent or pure white.
          background: "repeating-conic-gradient(#f1f1f1 0% 25%, #ffffff 0% 50%) 50% / 20px 20px",
          display: "flex",
          alignItems: "center",
          justifyContent: "center",
          overflow: "hidden",
        }}
      >
        {children}
      </div>
    </BlockStack>
  );
}

/** The original from Shopify's CDN next to the processed image served by the app. */
export function BeforeAfter({ itemId, originalUrl, productTitle }: { itemId: string; originalUrl: string; productTitle: string }) {
  const after = useAuthenticatedObjectUrl(`/app/images/${encodeURIComponent(itemId)}/processed`);
  return (
    <InlineStack gap="400" wrap>
      <Frame title="Before">
        <img
          src={thumbnailUrl(originalUrl, 640)}
          alt={`${productTitle}: original`}
          width={SIZE}
          height={SIZE}
          style={{ width: SIZE, height: SIZE, objectFit: "contain" }}
        />
      </Frame>
      <Frame title="After">
        {after.objectUrl ? (
          <img
            src={after.objectUrl}
            alt={`${productTitle}: processed`}
            width={SIZE}
            height={SIZE}
            style={{ width: SIZE, height: SIZE, objectFit: "contain" }}
            data-testid="after-image"
          />
        ) : after.loading ? (
          <Spinner accessibilityLabel="Loading the processed image" />
        ) : (
          <Text as="p" tone="subdued">
            {after.error ?? "No processed image."}
          </Text>
        )}
      </Frame>
    </InlineStack>
  );
}
