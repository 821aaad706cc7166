import { useState } from "react";
import { useFetcher } from "@remix-run/react";
import { BlockStack, Button, Collapsible, InlineStack, Spinner, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import type { BatchSummary } from "./credits-view";

/** A batch's summary, opening to what each of its images cost. */
export function BatchLine({ batch }: { batch: BatchSummary }) {
  const fetcher = useFetcher<{
    lines: Array<{ itemId: string; productTitle: string; position: number; charged: number; returned: number; held: number }>;
  }>();
  const [open, setOpen] = useState(false);
  const { t } = useTranslation();
  const toggle = () => {
    if (!open && !fetcher.data) fetcher.load(`/app/credits/batches/${batch.id}`);
    setOpen(!open);
  };
  const parts = [t("credits.batchImages", { count: batch.images }), t("credits.spent", { amount: batch.charged })];
  if (batch.returned > 0) parts.push(t("credits.returned", { amount: batch.returned }));
  if (batch.held > 0) parts.push(t("credits.heldCount", { amount: batch.held }));
  return (
    <BlockStack gap="100">
      <InlineStack gap="200" blockAlign="center">
        <Text as="span">{parts.join(" · ")}</Text>
        <Button variant="plain" onClick={toggle} ariaExpanded={open} ariaControls={`batch-credits-${batch.id}`}>
          {open ? t("credits.hideImages") : t("credits.showImages")}
        </Button>
        <Button variant="plain" url={`/app/batches/${batch.id}`}>
          {t("credits.openBatch")}
        </Button>
      </InlineStack>
      <Collapsible id={`batch-credits-${batch.id}`} open={open}>
        {fetcher.data ? (
          <BlockStack gap="050">
            {fetcher.data.lines.map((item) => (
              <Text as="p" variant="bodySm" tone="subdued" key={item.itemId}>
                {t("credits.itemLine", { product: item.productTitle, position: item.position })}
                {item.charged > 0
                  ? t("credits.spent", { amount: item.charged })
                  : item.returned > 0
                    ? t("credits.returned", { amount: item.returned })
                    : item.held > 0
                      ? t("credits.heldCount", { amount: item.held })
                      : t("credits.nothingCharged")}
              </Text>
            ))}
          </BlockStack>
        ) : (
          <Spinner size="small" accessibilityLabel={t("credits.loadingBatch")} />
        )}
      </Collapsible>
    </BlockStack>
  );
}
