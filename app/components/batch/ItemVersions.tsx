import { useEffect, useState } from "react";
import { Badge, BlockStack, Box, Button, InlineStack, Text, TextField } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { MAX_INSTRUCTION_LENGTH } from "~/imaging/instruction";
import { useMessageText } from "~/i18n/messages";
import type { MerchantMessage } from "~/lib/merchant-message";
import { canRetry, groupVersions, publishActionFor, type VersionFields } from "~/models/versions";
import type { CompareTarget } from "./CompareModal";
import { useCreditsPerImage } from "./credits-per-image";
import { useGalleryText } from "./gallery-messages";
import { stateBadge, versionNote } from "./gallery-model";
import { useToastingFetcher } from "./useToastingFetcher";

export interface ItemVersionView extends VersionFields {
  reason: string | null;
  reasonMessage: MerchantMessage | null;
  instruction: string | null;
  /** Why publishing this (rejected) version again failed, while no later attempt of it exists. */
  publishError: string | null;
  publishErrorMessage: MerchantMessage | null;
}

/** "Try again" with an optional note: a new version of the image, 3 credits if it succeeds. */
export function TryAgain({ itemId, versions, title }: { itemId: string; versions: ItemVersionView[]; title: string }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const { t } = useTranslation();
  const fetcher = useToastingFetcher();
  const messageText = useMessageText();
  const creditsPerImage = useCreditsPerImage();
  const group = groupVersions(versions)[0];
  useEffect(() => {
    if (fetcher.state === "idle" && fetcher.data?.ok) {
      setOpen(false);
      setNote("");
    }
  }, [fetcher.state, fetcher.data]);
  if (!group || !canRetry(group)) return null;
  if (!open) {
    return (
      <InlineStack>
        <Button onClick={() => setOpen(true)} accessibilityLabel={t("batchGallery.versions.tryAgainLabel", { title })}>
          {t("batchGallery.versions.tryAgain")}
        </Button>
      </InlineStack>
    );
  }
  const error = fetcher.state === "idle" && fetcher.data?.error ? (messageText(fetcher.data) ?? undefined) : undefined;
  return (
    <Box minWidth="280px">
      <fetcher.Form method="post" action={`/app/items/${encodeURIComponent(itemId)}/retry`}>
        <BlockStack gap="200">
          <TextField
            label={t("batchGallery.versions.noteLabel")}
            name="instruction"
            value={note}
            onChange={setNote}
            maxLength={MAX_INSTRUCTION_LENGTH}
            showCharacterCount
            autoComplete="off"
            placeholder={t("batchGallery.versions.notePlaceholder")}
            helpText={t("batchGallery.versions.noteHelp", { count: creditsPerImage })}
            error={error}
          />
          <InlineStack gap="200">
            <Button submit variant="primary" loading={fetcher.state !== "idle"}>
              {t("batchGallery.versions.makeNewVersion")}
            </Button>
            <Button onClick={() => setOpen(false)} disabled={fetcher.state !== "idle"}>
              {t("batchGallery.versions.cancel")}
            </Button>
          </InlineStack>
        </BlockStack>
      </fetcher.Form>
    </Box>
  );
}

function VersionRow({
  version,
  number,
  group,
  title,
  originalUrl,
  onCompare,
}: {
  version: ItemVersionView;
  number: number;
  group: ReturnType<typeof groupVersions<ItemVersionView>>[number];
  title: string;
  originalUrl: string;
  onCompare: (target: CompareTarget) => void;
}) {
  const fetcher = useToastingFetcher();
  const text = useGalleryText();
  const { t } = useTranslation();
  const creditsPerImage = useCreditsPerImage();
  const action = publishActionFor(version, group);
  const note = versionNote(version) ?? (action.kind === "none" && version.state !== "PUBLISHED" ? action.why : null);
  const badge = stateBadge(version.state);
  const state =
    version.state === "PUBLISHED"
      ? { label: t("batchGallery.versions.onProduct"), tone: badge.tone }
      : { label: text(badge.label), tone: badge.tone };
  return (
    <li data-testid="item-version" data-item-id={version.id} data-state={version.state}>
      <BlockStack gap="200">
        <InlineStack gap="200" blockAlign="center" align="space-between">
          <InlineStack gap="200" blockAlign="center">
            <Text as="span" fontWeight="semibold">
              {t("batchGallery.versions.version", { number })}
            </Text>
            <Badge tone={state.tone}>{state.label}</Badge>
            <Text as="span" tone="subdued">
              {version.instruction
                ? t("batchGallery.versions.note", { note: version.instruction })
                : number === 1
                  ? t("batchGallery.versions.firstTry")
                  : t("batchGallery.versions.noNote")}
            </Text>
          </InlineStack>
          <InlineStack gap="200">
            {version.resultImageId ? (
              <Button
                variant="plain"
                onClick={() =>
                  onCompare({ itemId: version.id, originalUrl, title: t("batchGallery.versions.compareTitle", { title, number }) })
                }
                accessibilityLabel={t("batchGallery.versions.compareLabel", { title, number })}
              >
                {t("batchGallery.versions.view")}
              </Button>
            ) : null}
            {action.kind !== "none" ? (
              <Button
                onClick={() => fetcher.submit(null, { method: "post", action: `/app/items/${encodeURIComponent(version.id)}/publish` })}
                loading={fetcher.state !== "idle"}
                accessibilityLabel={t("batchGallery.versions.publishLabel", { title, number })}
              >
                {action.kind === "republish"
                  ? t("batchGallery.versions.republish")
                  : t("batchGallery.versions.publishPaid", { count: creditsPerImage })}
              </Button>
            ) : null}
          </InlineStack>
        </InlineStack>
        {note ? (
          <Text as="p" tone={version.publishError || version.state === "FAILED" ? "critical" : "subdued"} variant="bodySm">
            <span data-testid="version-note">{text(note)}</span>
          </Text>
        ) : null}
      </BlockStack>
    </li>
  );
}

/** Every version of an image, oldest first, with "Publish this version" where it applies. */
export function ItemVersions({
  versions,
  title,
  originalUrl,
  onCompare,
}: {
  versions: ItemVersionView[];
  title: string;
  originalUrl: string;
  onCompare: (target: CompareTarget) => void;
}) {
  const { t } = useTranslation();
  const creditsPerImage = useCreditsPerImage();
  const group = groupVersions(versions)[0];
  if (!group || group.versions.length < 2) return null;
  return (
    <Box paddingInlineStart="400" borderInlineStartWidth="025" borderColor="border">
      <BlockStack gap="200">
        <Text as="h4" variant="headingSm">
          {t("batchGallery.versions.heading", { versions: group.versions.length })}
        </Text>
        <Text as="p" tone="subdued" variant="bodySm">
          {t("batchGallery.versions.explainer", { count: creditsPerImage })}
        </Text>
        <ul
          style={{ margin: 0, padding: 0, listStyle: "none", display: "grid", gap: 8 }}
          aria-label={t("batchGallery.versions.listLabel", { title })}
        >
          {group.versions.map((version, index) => (
            <VersionRow
              key={version.id}
              version={version}
              number={index + 1}
              group={group}
              title={title}
              originalUrl={originalUrl}
              onCompare={onCompare}
            />
          ))}
        </ul>
      </BlockStack>
    </Box>
  );
}
