import { useState } from "react";
import { Badge, Banner, BlockStack, Box, Button, InlineStack, Text } from "@shopify/polaris";
import { thumbnailUrl } from "~/components/images/grid-model";
import { AltTextEditor } from "./AltTextEditor";
import { BeforeAfter } from "./BeforeAfter";
import { ItemVersions, TryAgain, type ItemVersionView } from "./ItemVersions";
import { useToastingFetcher } from "./useToastingFetcher";
import { STATE_LABELS, fidelityNeedsAttention, readCompliance, readFidelity, readFraming } from "./report-model";

export interface BatchItemView {
  id: string;
  productTitle: string;
  mediaId: string;
  sourceUrl: string;
  /** The original's backup in Shopify Files once the product image was replaced, else the source. */
  originalUrl: string;
  state: string;
  reason: string | null;
  compliance: unknown;
  fidelity: unknown;
  framing: unknown;
  resultImageId: string | null;
  position: number;
  alt: string | null;
  suggestedAlt: string | null;
  writtenAlt: string | null;
  /** The merchant's note for this version ("Try again"). */
  instruction: string | null;
  /** Every version of this image, oldest first (one when it was never tried again). */
  versions: ItemVersionView[];
}

function useItemAction(itemId: string, verb: "approve" | "reject" | "restore") {
  const fetcher = useToastingFetcher();
  return {
    run: () => fetcher.submit(null, { method: "post", action: `/app/items/${encodeURIComponent(itemId)}/${verb}` }),
    busy: fetcher.state !== "idle",
  };
}

const THUMB = 72;

export function BatchItemRow({ item }: { item: BatchItemView }) {
  const [open, setOpen] = useState(false);
  const approve = useItemAction(item.id, "approve");
  const reject = useItemAction(item.id, "reject");
  const restore = useItemAction(item.id, "restore");
  const compliance = readCompliance(item.compliance);
  const fidelity = readFidelity(item.fidelity);
  const framing = readFraming(item.framing);
  const state = STATE_LABELS[item.state] ?? { label: item.state };
  const hasResult = Boolean(item.resultImageId);
  const title = `${item.productTitle}, image ${item.position}`;

  return (
    <Box padding="400" borderBlockEndWidth="025" borderColor="border" as="li">
      <div data-testid="batch-item" data-item-id={item.id} data-state={item.state}>
        <BlockStack gap="300">
          <InlineStack gap="400" wrap={false} blockAlign="start">
            <div style={{ width: THUMB, height: THUMB, flex: "none", borderRadius: 8, overflow: "hidden", background: "var(--p-color-bg-surface-secondary)" }}>
              <img
                src={thumbnailUrl(item.originalUrl, 200)}
                alt={title}
                width={THUMB}
                height={THUMB}
                loading="lazy"
                style={{ width: THUMB, height: THUMB, objectFit: "contain", display: "block" }}
              />
            </div>
            <div style={{ flex: "1 1 auto", minWidth: 0 }}>
              <BlockStack gap="200">
                <InlineStack gap="200" blockAlign="center">
                  <Text as="h3" variant="headingSm">
                    {title}
                  </Text>
                  <Badge tone={state.tone}>{state.label}</Badge>
                </InlineStack>
                {item.instruction ? (
                  <Text as="p" tone="subdued">{`Your note: “${item.instruction}”`}</Text>
                ) : null}
                {item.reason && (item.state === "FAILED" || item.state === "NEEDS_REVIEW" || item.state === "CANCELLED") ? (
                  <Text as="p" tone={item.state === "FAILED" ? "critical" : "subdued"}>
                    {item.reason}
                  </Text>
                ) : null}
                {compliance ? (
                  <InlineStack gap="100" wrap>
                    {compliance.rules.map((rule) => (
                      <Badge key={rule.id} tone={rule.passed ? "success" : "critical"} progress={rule.passed ? "complete" : "incomplete"}>
                        {`${rule.label}: ${rule.measured ?? "?"}${rule.expected ? ` (needs ${rule.expected})` : ""}`}
                      </Badge>
                    ))}
                  </InlineStack>
                ) : null}
              </BlockStack>
            </div>
            <InlineStack gap="200" wrap={false}>
              {hasResult ? (
                <Button onClick={() => setOpen((o) => !o)} ariaExpanded={open} ariaControls={`compare-${item.id}`}>
                  {open ? "Hide comparison" : "Compare"}
                </Button>
              ) : null}
              {item.state === "NEEDS_REVIEW" ? (
                <>
                  <Button variant="primary" onClick={approve.run} loading={approve.busy} disabled={reject.busy}>
                    Approve
                  </Button>
                  <Button tone="critical" onClick={reject.run} loading={reject.busy} disabled={approve.busy}>
                    Reject
                  </Button>
                </>
              ) : null}
              {item.state === "PUBLISHED" ? (
                <Button onClick={restore.run} loading={restore.busy} accessibilityLabel={`Restore the original of ${title}`}>
                  Restore original
                </Button>
              ) : null}
            </InlineStack>
          </InlineStack>
          <TryAgain itemId={item.id} versions={item.versions} title={title} />
          <ItemVersions versions={item.versions} title={title} originalUrl={item.originalUrl} />
          {fidelityNeedsAttention(fidelity) ? (
            <Banner tone="warning" title="The product may have changed">
              <p>
                {fidelity?.message ?? "The fidelity check found differences between the product in the original and in the result."}
                {fidelity?.score !== null && fidelity?.threshold !== null
                  ? ` Similarity ${fidelity?.score?.toFixed(2)} (needs ${fidelity?.threshold?.toFixed(2)}).`
                  : ""}
              </p>
            </Banner>
          ) : null}
          {framing ? (
            <Banner tone="warning" title="The original shows only part of the product">
              <p data-testid="framing-notice">{framing.message}</p>
            </Banner>
          ) : null}
          <AltTextEditor item={item} />
          {open ? (
            <div id={`compare-${item.id}`}>
              <BeforeAfter itemId={item.id} originalUrl={item.originalUrl} productTitle={title} />
            </div>
          ) : null}
        </BlockStack>
      </div>
    </Box>
  );
}
