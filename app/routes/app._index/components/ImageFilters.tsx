import { useEffect, useState } from "react";
import { useSearchParams } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Button, InlineStack, Select, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { IMAGE_FILTERS, type ImageFilter } from "~/components/images/grid-model";

/** Search box, status filter and product picker; each change reloads the page's products through the URL. */
export function ImageFilters({ q, status }: { q: string; status: ImageFilter }) {
  const [searchParams, setSearchParams] = useSearchParams();
  const shopify = useAppBridge();
  const { t } = useTranslation();
  const [query, setQuery] = useState(q);

  // Debounced search: each change of the box reloads the page's products, at most every 400 ms.
  useEffect(() => {
    if (query === q) return;
    const timer = setTimeout(() => {
      const next = new URLSearchParams(searchParams);
      if (query) next.set("q", query);
      else next.delete("q");
      next.delete("after");
      next.delete("prev");
      setSearchParams(next, { replace: true });
    }, 400);
    return () => clearTimeout(timer);
  }, [query, q, searchParams, setSearchParams]);

  const setFilter = (value: string) => {
    const next = new URLSearchParams(searchParams);
    if (value === "all") next.delete("status");
    else next.set("status", value);
    setSearchParams(next);
  };

  const pickProducts = async () => {
    const picked = await shopify.resourcePicker({ type: "product", multiple: true, action: "select" });
    if (!picked || picked.length === 0) return;
    const next = new URLSearchParams();
    next.set("ids", picked.map((p) => p.id).join(","));
    setSearchParams(next);
  };

  return (
    <InlineStack gap="300" align="space-between" blockAlign="end" wrap>
      <div style={{ flex: "1 1 200px" }}>
        <TextField
          label={t("images.search")}
          labelHidden
          placeholder={t("images.search")}
          autoComplete="off"
          value={query}
          onChange={setQuery}
          clearButton
          onClearButtonClick={() => setQuery("")}
        />
      </div>
      <div style={{ width: 230, flexShrink: 0 }}>
        <Select
          label={t("images.statusFilter")}
          labelInline
          options={IMAGE_FILTERS.map((f) => ({ label: t(`images.filters.${f}`), value: f }))}
          value={status}
          onChange={setFilter}
        />
      </div>
      <Button onClick={pickProducts}>{t("images.chooseProducts")}</Button>
    </InlineStack>
  );
}
