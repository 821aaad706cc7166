import { useEffect, useState } from "react";
import { useFetcher } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Banner, BlockStack, Button, Card, Checkbox, FormLayout, InlineStack, Select, Text, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useMessageText } from "~/i18n/messages";
import type { CatalogRunErrors, CollectionChoice } from "~/models/catalog-runs.server";
import type { CatalogActionData, CatalogPageData } from "../view-model.server";

/** The form that starts a run: which images (all, a collection, a type, a tag), the pipeline and an optional budget. */
export function NewRunCard({
  pipelines,
  creditsPerImage,
  maxBudget,
}: {
  pipelines: CatalogPageData["pipelines"];
  creditsPerImage: number;
  maxBudget: number;
}) {
  const collectionList = useFetcher<{ collections: CollectionChoice[] | null; error?: string }>();
  const shopify = useAppBridge();
  const start = useFetcher<CatalogActionData>();
  const [values, setValues] = useState({ filterKind: "all", filterValue: "", onlyUnprocessed: true, pipeline: "amazon", budget: "" });
  const errors: CatalogRunErrors = start.data && !start.data.ok ? (start.data.errors ?? {}) : {};
  const { t } = useTranslation();
  const messageText = useMessageText();
  const fieldError = (field: keyof CatalogRunErrors) => {
    if (!errors[field]) return undefined;
    if (field === "filterValue")
      return t(`catalog.errors.${values.filterKind === "collection" ? "collection" : values.filterKind === "tag" ? "tag" : "productType"}`);
    if (field === "budget") return t("catalog.errors.budget", { min: creditsPerImage, max: maxBudget });
    return t(`catalog.errors.${field}`);
  };

  useEffect(() => {
    if (start.state === "idle" && start.data?.ok) shopify.toast.show(t(`catalog.${start.data.toast}`));
  }, [start.state, start.data, shopify, t]);

  const set =
    <K extends keyof typeof values>(key: K) =>
    (value: (typeof values)[K]) =>
      setValues((v) => ({ ...v, [key]: value }));
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          {t("catalog.newRun")}
        </Text>
        {start.data && !start.data.ok && start.data.error ? <Banner tone="critical">{messageText(start.data)}</Banner> : null}
        <FormLayout>
          <FormLayout.Group>
            <Select
              label={t("catalog.imagesOf")}
              options={[
                { label: t("catalog.kindAll"), value: "all" },
                { label: t("catalog.kindCollection"), value: "collection" },
                { label: t("catalog.kindType"), value: "productType" },
                { label: t("catalog.kindTag"), value: "tag" },
              ]}
              value={values.filterKind}
              // A tag typed for one kind is not a collection of the next.
              onChange={(filterKind) => {
                setValues((v) => ({ ...v, filterKind, filterValue: "" }));
                if (filterKind === "collection" && collectionList.state === "idle" && !collectionList.data?.collections)
                  collectionList.load("/app/catalog/collections");
              }}
              error={fieldError("filterKind")}
            />
            {values.filterKind === "collection" ? (
              <Select
                label={t("catalog.collection")}
                placeholder={collectionList.data?.collections?.length ? t("catalog.chooseCollection") : undefined}
                options={(collectionList.data?.collections ?? []).map((c) => ({
                  label: t("catalog.collectionOption", { title: c.title, count: c.products }),
                  value: c.id,
                }))}
                value={values.filterValue}
                onChange={set("filterValue")}
                disabled={!collectionList.data?.collections?.length}
                helpText={
                  collectionList.state !== "idle"
                    ? t("catalog.loadingCollections")
                    : collectionList.data?.error
                      ? t("catalog.collectionsError")
                      : collectionList.data?.collections?.length === 0
                        ? t("catalog.noCollections")
                        : undefined
                }
                error={fieldError("filterValue")}
              />
            ) : values.filterKind !== "all" ? (
              <TextField
                label={values.filterKind === "tag" ? t("catalog.tag") : t("catalog.productType")}
                autoComplete="off"
                value={values.filterValue}
                onChange={set("filterValue")}
                error={fieldError("filterValue")}
              />
            ) : null}
          </FormLayout.Group>
          <Checkbox label={t("catalog.onlyUnprocessed")} checked={values.onlyUnprocessed} onChange={set("onlyUnprocessed")} />
          <FormLayout.Group>
            <Select
              label={t("catalog.pipeline")}
              options={pipelines.map((p) => ({ label: t(`pipelines.${p.id}.label`), value: p.id }))}
              value={values.pipeline}
              onChange={set("pipeline")}
              error={fieldError("pipeline")}
            />
            <TextField
              label={t("catalog.budget")}
              type="number"
              autoComplete="off"
              value={values.budget}
              onChange={set("budget")}
              helpText={t("catalog.budgetHelp")}
              error={fieldError("budget")}
            />
          </FormLayout.Group>
          <InlineStack align="end">
            <Button
              variant="primary"
              loading={start.state !== "idle"}
              onClick={() =>
                start.submit({ intent: "start", ...values, onlyUnprocessed: values.onlyUnprocessed ? "on" : "" }, { method: "post" })
              }
            >
              {t("catalog.countImages")}
            </Button>
          </InlineStack>
        </FormLayout>
        <Text as="p" tone="subdued">
          {t("catalog.nothingCharged")}
        </Text>
      </BlockStack>
    </Card>
  );
}
