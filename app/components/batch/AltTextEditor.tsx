import { useState } from "react";
import { BlockStack, Button, InlineStack, TextField } from "@shopify/polaris";
import { useToastingFetcher } from "./useToastingFetcher";

/**
 * The processed image's alt text: what the app wrote, or its suggestion, editable. The merchant's own alt text is
 * shown and only replaced when they save.
 */
export function AltTextEditor({ item }: { item: { id: string; state: string; alt: string | null; suggestedAlt: string | null; writtenAlt: string | null } }) {
  const fetcher = useToastingFetcher();
  const [value, setValue] = useState(item.writtenAlt ?? item.suggestedAlt ?? "");
  if (item.state !== "PUBLISHED" && item.state !== "NEEDS_REVIEW") return null;
  if (!item.suggestedAlt && !item.writtenAlt) return null;

  const own = item.alt?.trim() ? item.alt : null;
  const status = item.writtenAlt
    ? "Written to the product image."
    : own
      ? `Suggested. The image keeps your alt text ("${own}") unless you save this one.`
      : "Suggested. It is written with the image when it is published.";
  return (
    <BlockStack gap="100">
      <TextField
        label="Alt text"
        helpText={`${status} Suggested at no extra credit cost.`}
        autoComplete="off"
        value={value}
        onChange={setValue}
        maxLength={512}
        showCharacterCount
        error={fetcher.data?.error}
      />
      <InlineStack align="end">
        <Button
          size="slim"
          loading={fetcher.state !== "idle"}
          onClick={() => fetcher.submit({ alt: value }, { method: "post", action: `/app/items/${encodeURIComponent(item.id)}/alt` })}
        >
          {item.state === "PUBLISHED" ? "Write alt text" : "Save alt text"}
        </Button>
      </InlineStack>
    </BlockStack>
  );
}
