import { useSearchParams } from "@remix-run/react";
import { InlineStack, Pagination } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { hasPreviousPage, nextPageParams, previousPageParams, type ImageFilter } from "~/components/images/grid-model";

/** Previous/next page of products, by the listing's cursor. */
export function ImagesPagination({
  status,
  endCursor,
  hasNextPage,
}: {
  status: ImageFilter;
  endCursor: string | null;
  hasNextPage: boolean;
}) {
  const [searchParams, setSearchParams] = useSearchParams();
  const { t } = useTranslation();
  return (
    <InlineStack align="center">
      <Pagination
        hasPrevious={hasPreviousPage(searchParams)}
        onPrevious={() => setSearchParams(previousPageParams(searchParams))}
        hasNext={hasNextPage && Boolean(endCursor)}
        onNext={() => endCursor && setSearchParams(nextPageParams(searchParams, endCursor))}
        label={
          status === "all" ? t("images.paginationProducts") : t("images.paginationFiltered", { filter: t(`images.filters.${status}`) })
        }
      />
    </InlineStack>
  );
}
