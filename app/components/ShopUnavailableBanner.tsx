import { Banner, BlockStack, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useFormat } from "~/i18n/format";

/** The worker's mark on the shop as the layout sends it: the status Shopify refused it with, and when it last did. */
export interface ShopUnavailable {
  status: number;
  since: string;
}

/** Shown on every page while Shopify refuses the store (402 frozen, 423 locked), so nothing moving has its reason. */
export function ShopUnavailableBanner({ unavailable }: { unavailable: ShopUnavailable | null }) {
  const { t } = useTranslation();
  const format = useFormat();
  if (!unavailable) return null;
  const frozen = unavailable.status === 402;
  return (
    <section style={{ maxWidth: "62.375rem", margin: "0 auto", padding: "16px 24px 0" }}>
      <Banner tone="critical" title={t("shopUnavailable.title")}>
        <BlockStack gap="100">
          <Text as="p">{frozen ? t("shopUnavailable.frozen") : t("shopUnavailable.locked")}</Text>
          <Text as="p" tone="subdued">
            {t("shopUnavailable.lastRefused", { at: format.dateTime(unavailable.since) })}
          </Text>
        </BlockStack>
      </Banner>
    </section>
  );
}
