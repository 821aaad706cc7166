import { memo } from "react";
import { BlockStack, Checkbox, InlineStack, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { isPipelineId } from "~/imaging/pipelines";
import { thumbnailUrl, type ImageBadgeStatus } from "./grid-model";
import { ImageStatusBadge } from "./ImageStatusBadge";

export interface GridImage {
  mediaId: string;
  productId: string;
  productTitle: string;
  url: string;
  alt: string | null;
  position: number;
  status: ImageBadgeStatus;
  /** The pipeline of a processed image. */
  pipeline: string | null;
}

export interface ProductGroup {
  productId: string;
  productTitle: string;
  images: GridImage[];
}

export function groupByProduct(images: GridImage[]): ProductGroup[] {
  const groups = new Map<string, ProductGroup>();
  for (const image of images) {
    let group = groups.get(image.productId);
    if (!group) {
      group = { productId: image.productId, productTitle: image.productTitle, images: [] };
      groups.set(image.productId, group);
    }
    group.images.push(image);
  }
  return [...groups.values()];
}

// Fixed cell and thumbnail sizes: nothing moves while 2,000 lazy thumbnails arrive.
const CELL_WIDTH = 172;
const THUMB = 156;

const ImageCell = memo(function ImageCell({
  image,
  selected,
  onToggle,
}: {
  image: GridImage;
  selected: boolean;
  onToggle: (mediaId: string) => void;
}) {
  const { t } = useTranslation();
  const label = t("images.imageLabel", { product: image.productTitle, position: image.position });
  return (
    <li
      data-testid="image-cell"
      data-media-id={image.mediaId}
      style={{
        listStyle: "none",
        width: CELL_WIDTH,
        height: THUMB + 76,
        boxSizing: "border-box",
        padding: 8,
        borderRadius: 12,
        border: selected ? "2px solid var(--p-color-border-focus)" : "1px solid var(--p-color-border)",
        background: selected ? "var(--p-color-bg-surface-selected)" : "var(--p-color-bg-surface)",
      }}
    >
      {/* The thumbnail toggles too (mouse); the checkbox below is the keyboard control. */}
      <div style={{ cursor: "pointer" }} onClick={() => onToggle(image.mediaId)} aria-hidden>
        <div
          style={{
            width: THUMB,
            height: THUMB,
            borderRadius: 8,
            overflow: "hidden",
            background: "var(--p-color-bg-surface-secondary)",
            position: "relative",
          }}
        >
          {image.url ? (
            <img
              src={thumbnailUrl(image.url)}
              alt={image.alt || label}
              width={THUMB}
              height={THUMB}
              loading="lazy"
              decoding="async"
              style={{ width: THUMB, height: THUMB, objectFit: "contain", display: "block" }}
            />
          ) : null}
        </div>
        <div style={{ height: 20, marginTop: 6, overflow: "hidden" }}>
          <Text as="span" variant="bodySm" truncate>
            {t("images.imageNumber", { position: image.position })}
          </Text>
        </div>
      </div>
      <InlineStack align="space-between" blockAlign="center" wrap={false}>
        <Checkbox label={t("images.selectImage", { label })} labelHidden checked={selected} onChange={() => onToggle(image.mediaId)} />
        <ImageStatusBadge
          status={image.status}
          pipelineLabel={image.pipeline && isPipelineId(image.pipeline) ? t(`pipelines.${image.pipeline}.short`) : image.pipeline}
        />
      </InlineStack>
    </li>
  );
});

export function ImageGrid({
  groups,
  selected,
  onToggleImage,
  onToggleProduct,
}: {
  groups: ProductGroup[];
  selected: ReadonlySet<string>;
  onToggleImage: (mediaId: string) => void;
  onToggleProduct: (group: ProductGroup, select: boolean) => void;
}) {
  return (
    <BlockStack gap="500">
      {groups.map((group) => (
        <ProductSection
          key={group.productId}
          group={group}
          selection={group.images.map((i) => (selected.has(i.mediaId) ? "1" : "0")).join("")}
          onToggleImage={onToggleImage}
          onToggleProduct={onToggleProduct}
        />
      ))}
    </BlockStack>
  );
}

/**
 * One product's images. `selection` ("1" per selected image, in order) is a string so that ticking one image
 * re-renders only its product's section, not all of a 200-image page (the Images page's click latency).
 */
const ProductSection = memo(function ProductSection({
  group,
  selection,
  onToggleImage,
  onToggleProduct,
}: {
  group: ProductGroup;
  selection: string;
  onToggleImage: (mediaId: string) => void;
  onToggleProduct: (group: ProductGroup, select: boolean) => void;
}) {
  const { t } = useTranslation();
  const count = [...selection].filter((c) => c === "1").length;
  const all = count === group.images.length;
  return (
    <section aria-label={group.productTitle} data-testid="product-group" data-product-id={group.productId}>
      <BlockStack gap="200">
        <InlineStack gap="200" blockAlign="center">
          <Checkbox
            label={
              <Text as="span" variant="headingSm">
                {group.productTitle}
              </Text>
            }
            checked={all ? true : count > 0 ? "indeterminate" : false}
            onChange={() => onToggleProduct(group, !all)}
          />
          <Text as="span" tone="subdued" variant="bodySm">
            {t("images.imageCount", { count: group.images.length })}
          </Text>
        </InlineStack>
        <ul
          style={{
            display: "grid",
            gridTemplateColumns: `repeat(auto-fill, ${CELL_WIDTH}px)`,
            gap: 12,
            margin: 0,
            padding: 0,
          }}
        >
          {group.images.map((image, index) => (
            <ImageCell key={image.mediaId} image={image} selected={selection[index] === "1"} onToggle={onToggleImage} />
          ))}
        </ul>
      </BlockStack>
    </section>
  );
});
