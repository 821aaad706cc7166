import { useCallback, useState } from "react";
import type { GridImage, ProductGroup } from "~/components/images/ImageGrid";

/** The merchant's selection of images, kept across pages, filters and searches. */
export function useImageSelection(images: GridImage[]) {
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const toggleImage = useCallback((mediaId: string) => {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(mediaId)) next.delete(mediaId);
      else next.add(mediaId);
      return next;
    });
  }, []);
  const toggleProduct = useCallback((group: ProductGroup, select: boolean) => {
    setSelected((current) => {
      const next = new Set(current);
      for (const image of group.images) {
        if (select) next.add(image.mediaId);
        else next.delete(image.mediaId);
      }
      return next;
    });
  }, []);
  const allOnPage = images.length > 0 && images.every((i) => selected.has(i.mediaId));
  const selectAllOnPage = () =>
    setSelected((current) => {
      const next = new Set(current);
      for (const image of images) {
        if (allOnPage) next.delete(image.mediaId);
        else next.add(image.mediaId);
      }
      return next;
    });
  const clear = () => setSelected(new Set());
  return { selected, toggleImage, toggleProduct, allOnPage, selectAllOnPage, clear };
}
