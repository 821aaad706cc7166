import { Badge } from "@shopify/polaris";
import type { ImageBadgeStatus } from "./grid-model";

export function ImageStatusBadge({ status, pipelineLabel }: { status: ImageBadgeStatus; pipelineLabel?: string | null }) {
  switch (status) {
    case "processed":
      return <Badge tone="success">{pipelineLabel ? `Processed · ${pipelineLabel}` : "Processed"}</Badge>;
    case "review":
      return <Badge tone="attention">Needs review</Badge>;
    case "failed":
      return <Badge tone="critical">Failed</Badge>;
    case "processing":
      return <Badge tone="info">Processing</Badge>;
    default:
      return <Badge>Original</Badge>;
  }
}
