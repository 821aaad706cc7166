/** Deterministic product catalogue for a stand-in shop: same index, same product, on every run. */
const WORDS = ["Aura", "Nord", "Lumen", "Oak", "Viva", "Terra", "Pixel", "Sole", "Brew", "Zest"];
const SHAPES = ["Bottle", "Box", "Jar", "Tube", "Can", "Shoe"];
const VIEWS = ["front view", "side view", "close-up", "in use"];
const CATALOG_EPOCH = Date.UTC(2025, 0, 6, 9, 0, 0);

export type ProductStatus = "ACTIVE" | "DRAFT" | "ARCHIVED";

export interface ProductSeed {
  title: string;
  handle: string;
  status: ProductStatus;
  vendor: string;
  productType: string;
  tags: string[];
  createdAt: Date;
  images: Array<{ alt: string; filename: string }>;
}

/** Some products have no images (every tenth), the rest 1..4. */
export function defaultImagesPerProduct(productIndex: number): number {
  return productIndex % 10 === 9 ? 0 : 1 + ((productIndex * 7) % 4);
}

export function productSeed(productIndex: number, imageCount: number): ProductSeed {
  const word = WORDS[productIndex % WORDS.length]!;
  const shape = SHAPES[productIndex % SHAPES.length]!;
  const title = `${word} ${shape} ${100 + productIndex}`;
  const handle = slugify(title);
  const status: ProductStatus = productIndex % 25 === 24 ? "ARCHIVED" : productIndex % 10 === 7 ? "DRAFT" : "ACTIVE";
  return {
    title,
    handle,
    status,
    vendor: word,
    productType: shape,
    tags: [shape.toLowerCase(), word.toLowerCase()],
    createdAt: new Date(CATALOG_EPOCH + productIndex * 3_600_000),
    images: Array.from({ length: imageCount }, (_, k) => ({ alt: `${title} ${VIEWS[k % VIEWS.length]}`, filename: `${handle}-${k + 1}` })),
  };
}

export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
