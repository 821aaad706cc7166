import { useState } from "react";
import { BlockStack, Button, ButtonGroup, Modal, RangeSlider, Spinner, Text } from "@shopify/polaris";
import { thumbnailUrl } from "~/components/images/grid-model";
import { message, useGalleryText } from "./gallery-messages";
import { useAuthenticatedObjectUrl } from "./useAuthenticatedObjectUrl";

export interface CompareTarget {
  itemId: string;
  originalUrl: string;
  title: string;
}

const COMPARE_WIDTH = 960;

/**
 * Before and after of one image, bigger than its tile: a slider (the processed image over the original, split where
 * the merchant drags or presses the arrow keys) or the two side by side.
 */
export function CompareModal({ target, onClose }: { target: CompareTarget | null; onClose: () => void }) {
  const t = useGalleryText();
  const [mode, setMode] = useState<"slider" | "side">("slider");
  const [split, setSplit] = useState(50);
  const after = useAuthenticatedObjectUrl(target ? `/app/images/${encodeURIComponent(target.itemId)}/processed?w=${COMPARE_WIDTH}` : null);
  if (!target) return null;
  const before = thumbnailUrl(target.originalUrl, COMPARE_WIDTH);
  const afterImage = after.objectUrl ? (
    <img src={after.objectUrl} alt={t(message("gallery.afterAlt", { title: target.title }))} data-testid="compare-after" />
  ) : after.loading ? (
    <Spinner accessibilityLabel={t(message("gallery.loadingResult"))} />
  ) : (
    <Text as="p" tone="subdued">
      {after.error ?? t(message("gallery.noResult"))}
    </Text>
  );
  return (
    <Modal
      open
      onClose={onClose}
      title={t(message("compare.title", { title: target.title }))}
      size="large"
      secondaryActions={[{ content: t(message("compare.close")), onAction: onClose }]}
    >
      <Modal.Section>
        <BlockStack gap="300">
          <ButtonGroup variant="segmented">
            <Button pressed={mode === "slider"} onClick={() => setMode("slider")}>
              {t(message("compare.sliderMode"))}
            </Button>
            <Button pressed={mode === "side"} onClick={() => setMode("side")}>
              {t(message("compare.sideBySide"))}
            </Button>
          </ButtonGroup>
          {mode === "slider" ? (
            <BlockStack gap="200">
              <div className="batch-compare-slider" data-testid="compare-slider" style={{ ["--split" as string]: `${100 - split}%` }}>
                <div className="batch-gallery-frame batch-compare-layer">
                  <img src={before} alt={t(message("gallery.beforeAlt", { title: target.title }))} />
                </div>
                <div className="batch-gallery-frame batch-compare-layer batch-compare-after">{afterImage}</div>
                <div className="batch-compare-divider" aria-hidden />
              </div>
              <RangeSlider
                label={t(message("compare.sliderLabel"))}
                value={split}
                min={0}
                max={100}
                output
                suffix={<Text as="span">{t(message("compare.sliderValue", { value: split }))}</Text>}
                onChange={(value) => setSplit(typeof value === "number" ? value : value[0])}
              />
            </BlockStack>
          ) : (
            <div className="batch-gallery-pair">
              <BlockStack gap="100">
                <Text as="h3" variant="headingSm">
                  {t(message("gallery.before"))}
                </Text>
                <div className="batch-gallery-frame">
                  <img src={before} alt={t(message("gallery.beforeAlt", { title: target.title }))} />
                </div>
              </BlockStack>
              <BlockStack gap="100">
                <Text as="h3" variant="headingSm">
                  {t(message("gallery.after"))}
                </Text>
                <div className="batch-gallery-frame">{afterImage}</div>
              </BlockStack>
            </div>
          )}
        </BlockStack>
      </Modal.Section>
    </Modal>
  );
}
