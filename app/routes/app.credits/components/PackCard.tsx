import { useFetcher } from "@remix-run/react";
import { Banner, BlockStack, Button, Card, InlineStack, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useFormat } from "~/i18n/format";
import { useMessageText } from "~/i18n/messages";
import type { ErrorPayload } from "~/lib/merchant-message";
import type { CreditsView, PackView } from "./credits-view";

/** A credit pack with its price and the ways to pay; a refused purchase shows its message on the card. */
export function PackCard({ pack, overview }: { pack: PackView; overview: CreditsView }) {
  // A started purchase redirects; only a refusal comes back as data.
  const fetcher = useFetcher<Partial<ErrorPayload>>();
  const busyIntent = fetcher.state !== "idle" ? fetcher.formData?.get("intent") : null;
  const images = Math.floor(pack.credits / overview.creditsPerImage);
  const { t } = useTranslation();
  const format = useFormat();
  const messageText = useMessageText();
  const error = fetcher.data && "error" in fetcher.data ? messageText(fetcher.data) : null;
  const buy = (intent: "buy-shopify" | "buy-stripe") => fetcher.submit({ intent, packId: pack.id }, { method: "post" });
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h3" variant="headingMd">
            {pack.name}
          </Text>
          <Text as="p" variant="headingLg">
            {format.currency(pack.priceCents / 100, pack.currency)}
          </Text>
        </InlineStack>
        <Text as="p">
          {t("credits.packLine", {
            credits: pack.credits,
            images,
            pricePerImage: format.currency(pack.pricePerImageCents / 100, pack.currency),
          })}
        </Text>
        {error ? (
          <Banner tone="critical">
            <p>{error}</p>
          </Banner>
        ) : null}
        <BlockStack gap="200">
          <Button
            variant="primary"
            onClick={() => buy("buy-shopify")}
            loading={busyIntent === "buy-shopify"}
            disabled={!overview.shopifyBilling.enabled || busyIntent != null}
            accessibilityLabel={t("credits.buyWithShopifyLabel", { pack: pack.name })}
          >
            {t("credits.buyWithShopify")}
          </Button>
          {overview.stripe.enabled ? (
            <Button
              onClick={() => buy("buy-stripe")}
              loading={busyIntent === "buy-stripe"}
              disabled={busyIntent != null}
              accessibilityLabel={t("credits.payWithStripeLabel", { pack: pack.name })}
            >
              {t("credits.payWithStripe")}
            </Button>
          ) : null}
        </BlockStack>
      </BlockStack>
    </Card>
  );
}
