import { useSearchParams } from "@remix-run/react";
import { Button, InlineStack, Spinner, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";

/** How many images are selected, with the page-wide select/clear buttons and the loading spinner. */
export function SelectionBar({
  imagesOnPage,
  allOnPage,
  selectedCount,
  onSelectAllOnPage,
  onClearSelection,
  pickedProducts,
  loading,
}: {
  imagesOnPage: number;
  allOnPage: boolean;
  selectedCount: number;
  onSelectAllOnPage: () => void;
  onClearSelection: () => void;
  /** The listing is narrowed to products chosen in the picker. */
  pickedProducts: boolean;
  loading: boolean;
}) {
  const [searchParams, setSearchParams] = useSearchParams();
  const { t } = useTranslation();

  const clearProducts = () => {
    const next = new URLSearchParams(searchParams);
    next.delete("ids");
    next.delete("after");
    next.delete("prev");
    setSearchParams(next);
  };

  return (
    <InlineStack gap="300" blockAlign="center" align="space-between">
      <InlineStack gap="300" blockAlign="center">
        <Button onClick={onSelectAllOnPage} disabled={imagesOnPage === 0}>
          {allOnPage ? t("images.clearPageSelection") : t("images.selectAllOnPage", { count: imagesOnPage })}
        </Button>
        <Text as="span" tone="subdued">
          {t("images.selectedCount", { count: selectedCount })}
        </Text>
        {selectedCount > 0 ? (
          <Button variant="plain" onClick={onClearSelection}>
            {t("images.clearSelection")}
          </Button>
        ) : null}
        {pickedProducts ? (
          <Button variant="plain" onClick={clearProducts}>
            {t("images.showAllProducts")}
          </Button>
        ) : null}
      </InlineStack>
      <div style={{ width: 20, height: 20 }}>
        {loading ? <Spinner size="small" accessibilityLabel={t("images.loadingImages")} /> : null}
      </div>
    </InlineStack>
  );
}
