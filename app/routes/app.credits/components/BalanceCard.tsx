import { BlockStack, Card, InlineGrid, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useFormat } from "~/i18n/format";
import type { CreditsView } from "./credits-view";

export function BalanceCard({ balance, creditsPerImage }: { balance: CreditsView["balance"]; creditsPerImage: number }) {
  const { t } = useTranslation();
  const imagesLeft = Math.floor(balance.available / creditsPerImage);
  return (
    <Card>
      <BlockStack gap="200">
        <Text as="h2" variant="headingMd">
          {t("credits.balance")}
        </Text>
        <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
          <Stat label={t("credits.available")} value={balance.available} help={t("credits.enoughFor", { count: imagesLeft })} />
          <Stat label={t("credits.held")} value={balance.reserved} help={t("credits.heldHelp")} />
          <Stat label={t("credits.total")} value={balance.total} />
        </InlineGrid>
      </BlockStack>
    </Card>
  );
}

function Stat({ label, value, help }: { label: string; value: number; help?: string }) {
  const format = useFormat();
  return (
    <BlockStack gap="100">
      <Text as="p" tone="subdued">
        {label}
      </Text>
      <Text as="p" variant="heading2xl">
        {format.number(value)}
      </Text>
      {help ? (
        <Text as="p" variant="bodySm" tone="subdued">
          {help}
        </Text>
      ) : null}
    </BlockStack>
  );
}
