import { Card, EmptyState } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { BLANK_IMAGE } from "./blank-image";

/** The store has no product images yet: point the merchant at adding a product. */
export function EmptyStoreCard() {
  const { t } = useTranslation();
  return (
    <Card>
      <EmptyState
        heading={t("images.emptyStoreHeading")}
        action={{ content: t("images.emptyStoreAction"), url: "shopify:admin/products/new", target: "_top" }}
        image={BLANK_IMAGE}
      >
        <p>{t("images.emptyStoreBody")}</p>
      </EmptyState>
    </Card>
  );
}
