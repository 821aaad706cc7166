import { useSearchParams } from "@remix-run/react";
import { Banner, BlockStack, Layout } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useFormat } from "~/i18n/format";
import { useStoredText } from "~/i18n/messages";
import { isUnpaid, recentUnpaid, type CreditsView } from "./credits-view";

/** What happened to the merchant's purchases: one waiting, money owed, fewer credits than paid for, unpaid, cancelled. */
export function PurchaseBanners({ overview }: { overview: CreditsView }) {
  const [searchParams] = useSearchParams();
  const returned = overview.returnedPurchase;
  const { t } = useTranslation();
  const format = useFormat();
  const storedText = useStoredText();
  const unpaid = recentUnpaid(overview);

  return (
    <>
      {returned?.status === "PENDING" ? (
        <Layout.Section>
          <Banner tone="info" title={t("credits.pendingTitle")}>
            <p>{t("credits.pendingBody", { pack: returned.packName, credits: returned.credits })}</p>
          </Banner>
        </Layout.Section>
      ) : null}
      {overview.owed > 0 ? (
        <Layout.Section>
          <Banner tone="critical" title={t("credits.owedTitle", { owed: overview.owed })}>
            <p>{t("credits.owedBody")}</p>
          </Banner>
        </Layout.Section>
      ) : null}
      {returned?.status === "ACTIVE" && returned.note ? (
        <Layout.Section>
          <Banner tone="warning" title={t("credits.fewerTitle")}>
            <p>{storedText(returned.noteMessage, returned.note)}</p>
          </Banner>
        </Layout.Section>
      ) : null}
      {unpaid.length > 0 ? (
        <Layout.Section>
          <Banner tone="warning" title={t("credits.unpaidTitle", { count: unpaid.length })}>
            <BlockStack gap="100">
              {unpaid.map((p) => (
                <p key={p.id}>
                  {isUnpaid(p.status)
                    ? t(`credits.unpaid.${p.status}`, {
                        pack: p.packName,
                        credits: p.credits,
                        price: format.currency(p.amountCents / 100, p.currency),
                      })
                    : null}
                </p>
              ))}
            </BlockStack>
          </Banner>
        </Layout.Section>
      ) : null}
      {searchParams.get("checkout") === "cancelled" ? (
        <Layout.Section>
          <Banner tone="info" title={t("credits.checkoutCancelledTitle")}>
            <p>{t("credits.checkoutCancelledBody")}</p>
          </Banner>
        </Layout.Section>
      ) : null}
    </>
  );
}
