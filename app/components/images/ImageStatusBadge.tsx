import { Badge } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import type { ImageBadgeStatus } from "./grid-model";

export function ImageStatusBadge({ status, pipelineLabel }: { status: ImageBadgeStatus; pipelineLabel?: string | null }) {
  const { t } = useTranslation();
  switch (status) {
    case "processed":
      return (
        <Badge tone="success">
          {pipelineLabel ? t("images.badge.processedWith", { pipeline: pipelineLabel }) : t("images.badge.processed")}
        </Badge>
      );
    case "review":
      return <Badge tone="attention">{t("images.badge.review")}</Badge>;
    case "failed":
      return <Badge tone="critical">{t("images.badge.failed")}</Badge>;
    case "processing":
      return <Badge tone="info">{t("images.badge.processing")}</Badge>;
    default:
      return <Badge>{t("images.badge.original")}</Badge>;
  }
}
