import { memo, useRef, useState } from "react";
import { Badge, Banner, BlockStack, Box, Button, Card, Checkbox, InlineStack, Spinner, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { thumbnailUrl } from "~/components/images/grid-model";
import { AltTextEditor } from "./AltTextEditor";
import type { CompareTarget } from "./CompareModal";
import type { BatchItemView } from "./item-view";
import { message, useGalleryText, type Message } from "./gallery-messages";
import {
  fidelityDetail,
  heldOrCancelledNote,
  isBulkReviewable,
  marketOf,
  ruleDetail,
  stateBadge,
  verdictFor,
  type BatchPipeline,
  type VerdictTone,
} from "./gallery-model";
import { ItemVersions, TryAgain } from "./ItemVersions";
import { fidelityNeedsAttention, isFrameEdge, readCompliance, readFidelity, readFraming } from "./report-model";
import { useAuthenticatedObjectUrl } from "./useAuthenticatedObjectUrl";
import { useInView } from "./useInView";
import { useToastingFetcher } from "./useToastingFetcher";

const TILE_WIDTH = 480;

const TEXT_TONE: Record<VerdictTone, "success" | "critical" | "caution" | "base" | "subdued"> = {
  success: "success",
  critical: "critical",
  attention: "caution",
  info: "base",
  subdued: "subdued",
};

function useItemAction(itemId: string, verb: "approve" | "reject" | "restore") {
  const fetcher = useToastingFetcher();
  return {
    run: () => fetcher.submit(null, { method: "post", action: `/app/items/${encodeURIComponent(itemId)}/${verb}` }),
    busy: fetcher.state !== "idle",
  };
}

export function imageTitle(item: { productTitle: string; position: number }): Message {
  return message("gallery.imageTitle", { product: item.productTitle, position: item.position });
}

/** The processed image of a tile, fetched (signed) once the tile comes near the viewport. */
function AfterImage({ itemId, title }: { itemId: string; title: string }) {
  const t = useGalleryText();
  const frame = useRef<HTMLDivElement>(null);
  const near = useInView(frame);
  const after = useAuthenticatedObjectUrl(near ? `/app/images/${encodeURIComponent(itemId)}/processed?w=${TILE_WIDTH}` : null);
  return (
    <div className="batch-gallery-frame" ref={frame}>
      {after.objectUrl ? (
        <img
          src={after.objectUrl}
          alt={t(message("gallery.afterAlt", { title }))}
          width={TILE_WIDTH}
          height={TILE_WIDTH}
          data-testid="after-image"
        />
      ) : after.error ? (
        <Text as="p" tone="subdued" alignment="center">
          {after.error}
        </Text>
      ) : (
        <Spinner size="small" accessibilityLabel={t(message("gallery.loadingResult"))} />
      )}
    </div>
  );
}

function MeasuredDetails({
  item,
  batch,
  title,
  onCompare,
}: {
  item: BatchItemView;
  batch: BatchPipeline;
  title: string;
  onCompare: (target: CompareTarget) => void;
}) {
  const compliance = readCompliance(item.compliance);
  const fidelity = readFidelity(item.fidelity);
  const fidelityLine = fidelity && fidelityDetail(fidelity);
  const framing = readFraming(item.framing);
  const t = useGalleryText();
  const { i18n } = useTranslation();
  const listFormat = new Intl.ListFormat(i18n.language, { type: "conjunction" });
  const market = marketOf(batch.pipeline);
  const note = heldOrCancelledNote(item, batch);
  return (
    <div id={`details-${item.id}`} data-testid="measured-details">
      <BlockStack gap="300">
        {compliance ? (
          <BlockStack gap="100">
            <Text as="h4" variant="headingSm">
              {t(message("details.rules", { market }))}
            </Text>
            <ul className="batch-gallery-rules" aria-label={t(message("gallery.detailsLabel", { title }))}>
              {compliance.rules.map((rule) => (
                <li key={rule.id}>
                  <InlineStack gap="200" wrap={false} blockAlign="start">
                    <Badge tone={rule.passed ? "success" : "critical"} progress={rule.passed ? "complete" : "incomplete"}>
                      {t(message(rule.passed ? "details.rulePassed" : "details.ruleMissed"))}
                    </Badge>
                    <Text as="span" variant="bodySm">
                      {t(ruleDetail(rule, item.compliance, batch))}
                    </Text>
                  </InlineStack>
                </li>
              ))}
            </ul>
          </BlockStack>
        ) : (
          <Text as="p" tone="subdued">
            {t(message("details.noReport"))}
          </Text>
        )}
        {fidelityLine ? (
          <Text as="p" variant="bodySm" tone={fidelityNeedsAttention(fidelity) ? "caution" : "subdued"}>
            {t(fidelityLine)}
          </Text>
        ) : null}
        {framing ? (
          <Banner tone="warning">
            <p data-testid="framing-notice">
              {t(
                message("details.cutOff", {
                  edges: listFormat.format(framing.edges.filter(isFrameEdge).map((edge) => t(message(`details.edge.${edge}`)))),
                }),
              )}
            </p>
          </Banner>
        ) : null}
        {note ? (
          <Text as="p" variant="bodySm" tone="subdued">
            <span data-testid="item-reason">{t(note)}</span>
          </Text>
        ) : null}
        <AltTextEditor item={item} />
        <TryAgain itemId={item.id} versions={item.versions} title={title} />
        <ItemVersions versions={item.versions} title={title} originalUrl={item.originalUrl} onCompare={onCompare} />
      </BlockStack>
    </div>
  );
}

export interface GalleryTileProps {
  item: BatchItemView;
  batch: BatchPipeline;
  selected: boolean;
  onSelect: (id: string, selected: boolean) => void;
  onCompare: (target: CompareTarget) => void;
}

/** One image of the batch: before and after large, one verdict in words, its actions, the measurements one click away. */
export const GalleryTile = memo(function GalleryTile({ item, batch, selected, onSelect, onCompare }: GalleryTileProps) {
  const t = useGalleryText();
  const [open, setOpen] = useState(false);
  const approve = useItemAction(item.id, "approve");
  const reject = useItemAction(item.id, "reject");
  const restore = useItemAction(item.id, "restore");
  const title = t(imageTitle(item));
  const verdict = verdictFor(item, batch);
  const state = stateBadge(item.state);
  const reviewable = isBulkReviewable(item);

  return (
    <li
      className="batch-gallery-tile"
      data-testid="batch-item"
      data-item-id={item.id}
      data-state={item.state}
      data-selected={reviewable && selected}
    >
      <Card padding="300">
        <BlockStack gap="200">
          <InlineStack gap="200" blockAlign="center" wrap={false}>
            {reviewable ? (
              <Checkbox
                label={t(message("gallery.select", { title }))}
                labelHidden
                checked={selected}
                onChange={(checked) => onSelect(item.id, checked)}
              />
            ) : null}
            <div className="batch-gallery-title">
              <Text as="h3" variant="headingSm" truncate>
                {title}
              </Text>
            </div>
            <Badge tone={state.tone}>{t(state.label)}</Badge>
          </InlineStack>
          <div className="batch-gallery-pair">
            <div className="batch-gallery-frame">
              <img
                src={thumbnailUrl(item.originalUrl, TILE_WIDTH)}
                alt={t(message("gallery.beforeAlt", { title }))}
                width={TILE_WIDTH}
                height={TILE_WIDTH}
                loading="lazy"
              />
              <span className="batch-gallery-caption">{t(message("gallery.before"))}</span>
            </div>
            {item.resultImageId ? (
              <div className="batch-gallery-after">
                <AfterImage itemId={item.id} title={title} />
                <span className="batch-gallery-caption">{t(message("gallery.after"))}</span>
              </div>
            ) : (
              <div className="batch-gallery-frame">
                <Text as="p" tone="subdued" alignment="center">
                  {item.state === "QUEUED" || item.state === "PROCESSING" ? t(verdict.message) : t(message("gallery.noResult"))}
                </Text>
              </div>
            )}
          </div>
          <div className="batch-gallery-verdict" data-testid="gallery-verdict">
            <Text as="p" tone={TEXT_TONE[verdict.tone]} fontWeight="medium">
              {t(verdict.message)}
            </Text>
            {item.instruction ? (
              <Text as="p" tone="subdued" variant="bodySm" truncate>
                {t(message("gallery.note", { note: item.instruction }))}
              </Text>
            ) : null}
          </div>
          <InlineStack gap="200">
            {item.state === "NEEDS_REVIEW" ? (
              <>
                <Button
                  variant="primary"
                  onClick={approve.run}
                  loading={approve.busy}
                  disabled={reject.busy}
                  accessibilityLabel={t(message("gallery.approveLabel", { title }))}
                >
                  {t(message("gallery.approve"))}
                </Button>
                <Button
                  tone="critical"
                  onClick={reject.run}
                  loading={reject.busy}
                  disabled={approve.busy}
                  accessibilityLabel={t(message("gallery.rejectLabel", { title }))}
                >
                  {t(message("gallery.reject"))}
                </Button>
              </>
            ) : null}
            {item.state === "PUBLISHED" && !item.restoring ? (
              <Button onClick={restore.run} loading={restore.busy} accessibilityLabel={t(message("gallery.restoreLabel", { title }))}>
                {t(message("gallery.restore"))}
              </Button>
            ) : null}
            {item.resultImageId ? (
              <Button
                onClick={() => onCompare({ itemId: item.id, originalUrl: item.originalUrl, title })}
                accessibilityLabel={t(message("gallery.compareLabel", { title }))}
              >
                {t(message("gallery.compare"))}
              </Button>
            ) : null}
            <Button variant="plain" onClick={() => setOpen((o) => !o)} ariaExpanded={open} ariaControls={`details-${item.id}`}>
              {t(message(open ? "gallery.hideDetails" : "gallery.details"))}
            </Button>
          </InlineStack>
          {open ? (
            <Box paddingBlockStart="100">
              <MeasuredDetails item={item} batch={batch} title={title} onCompare={onCompare} />
            </Box>
          ) : null}
        </BlockStack>
      </Card>
    </li>
  );
});
