/**
 * products/create and products/update payloads as Shopify sends them (REST product shape; since 2024-07 with
 * `media`, whose `admin_graphql_api_id` is the MediaImage gid the Admin GraphQL API uses).
 */
import type { EmulatorStore, FileRecord, ProductRecord, ShopState } from "./store";

export const PRODUCT_CREATE_TOPIC = "products/create";
export const PRODUCT_UPDATE_TOPIC = "products/update";

export function productWebhookPayload(store: EmulatorStore, shop: ShopState, product: ProductRecord): Record<string, unknown> {
  const media = product.mediaIds.map((id) => shop.files.get(id)).filter((f): f is FileRecord => Boolean(f));
  const images = media.filter((f) => f.blob);
  const imageOf = (file: FileRecord, position: number) => ({
    id: file.numericId,
    alt: file.alt,
    position,
    product_id: product.numericId,
    created_at: file.createdAt.toISOString(),
    updated_at: file.updatedAt.toISOString(),
    admin_graphql_api_id: `gid://shopify/ProductImage/${file.numericId}`,
    width: file.blob?.width ?? 0,
    height: file.blob?.height ?? 0,
    src: store.fileUrl(file),
    variant_ids: [],
  });
  return {
    admin_graphql_api_id: product.id,
    body_html: "",
    created_at: product.createdAt.toISOString(),
    handle: product.handle,
    id: product.numericId,
    product_type: product.productType,
    published_at: product.status === "ACTIVE" ? product.createdAt.toISOString() : null,
    template_suffix: null,
    title: product.title,
    updated_at: product.updatedAt.toISOString(),
    vendor: product.vendor,
    status: product.status.toLowerCase(),
    published_scope: "global",
    tags: product.tags.join(", "),
    variants: [],
    options: [],
    images: images.map((file, i) => imageOf(file, i + 1)),
    image: images[0] ? imageOf(images[0], 1) : null,
    media: media.map((file, i) => ({
      id: file.numericId,
      product_id: product.numericId,
      position: i + 1,
      created_at: file.createdAt.toISOString(),
      updated_at: file.updatedAt.toISOString(),
      alt: file.alt,
      status: file.status,
      media_content_type: "IMAGE",
      preview_image: file.blob ? { width: file.blob.width, height: file.blob.height, src: store.fileUrl(file), status: file.status } : null,
      variant_ids: [],
      admin_graphql_api_id: file.id,
    })),
    variant_gids: [],
    has_variants_that_requires_components: false,
    category: null,
  };
}
