import type { ItemVersionView } from "./ItemVersions";

/** One image of a batch as the batch page's loader gives it (its current version, with every version listed). */
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
  /** Published, and its original is being put back. */
  restoring: boolean;
  /** The merchant's note for this version ("Try again"). */
  instruction: string | null;
  /** Every version of this image, oldest first (one when it was never tried again). */
  versions: ItemVersionView[];
}
