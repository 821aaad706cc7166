import { BlockStack, Button, InlineStack, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useToastingFetcher } from "./useToastingFetcher";

/**
 * "Try the N failed images again": one request for every failed image of the batch a new try may cure (`count`,
 * from the loader), 3 credits each held at once and charged only for those that succeed.
 */
export function RetryFailedImages({ batchId, count, creditsPerImage }: { batchId: string; count: number; creditsPerImage: number }) {
  const { t } = useTranslation();
  const fetcher = useToastingFetcher();
  if (count === 0) return null;
  return (
    <BlockStack gap="100">
      <InlineStack>
        <Button
          onClick={() => fetcher.submit(null, { method: "post", action: `/app/batches/${encodeURIComponent(batchId)}/retry-failed` })}
          loading={fetcher.state !== "idle"}
        >
          {t("batch.retryFailed", { count })}
        </Button>
      </InlineStack>
      <Text as="p" tone="subdued" variant="bodySm">
        {t("batch.retryFailedHelp", { count: creditsPerImage })}
      </Text>
    </BlockStack>
  );
}
