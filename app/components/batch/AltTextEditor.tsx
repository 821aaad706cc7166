import { useState } from "react";
import { BlockStack, Button, InlineStack, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useMessageText } from "~/i18n/messages";
import { useToastingFetcher } from "./useToastingFetcher";

/**
 * The processed image's alt text: what the app wrote, or its suggestion, editable. The merchant's own alt text is
 * shown and only replaced when they save.
 */
export function AltTextEditor({
  item,
}: {
  item: { id: string; state: string; alt: string | null; suggestedAlt: string | null; writtenAlt: string | null };
}) {
  const { t } = useTranslation();
  const fetcher = useToastingFetcher();
  const messageText = useMessageText();
  const [value, setValue] = useState(item.writtenAlt ?? item.suggestedAlt ?? "");
  if (item.state !== "PUBLISHED" && item.state !== "NEEDS_REVIEW") return null;
  if (!item.suggestedAlt && !item.writtenAlt) return null;

  const own = item.alt?.trim() ? item.alt : null;
  const status = item.writtenAlt
    ? t("batchGallery.altText.written")
    : own
      ? t("batchGallery.altText.suggestedKeepsOwn", { own })
      : t("batchGallery.altText.suggested");
  return (
    <BlockStack gap="100">
      <TextField
        label={t("batchGallery.altText.label")}
        helpText={t("batchGallery.altText.help", { status })}
        autoComplete="off"
        value={value}
        onChange={setValue}
        maxLength={512}
        showCharacterCount
        error={messageText(fetcher.data) ?? undefined}
      />
      <InlineStack align="end">
        <Button
          size="slim"
          loading={fetcher.state !== "idle"}
          onClick={() => fetcher.submit({ alt: value }, { method: "post", action: `/app/items/${encodeURIComponent(item.id)}/alt` })}
        >
          {item.state === "PUBLISHED" ? t("batchGallery.altText.write") : t("batchGallery.altText.save")}
        </Button>
      </InlineStack>
    </BlockStack>
  );
}
