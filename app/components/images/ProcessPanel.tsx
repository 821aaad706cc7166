import { Banner, BlockStack, Button, Card, ChoiceList, Link, List, Text } from "@shopify/polaris";
import { costSummary } from "./grid-model";

export interface PipelineChoice {
  id: string;
  label: string;
  summary: string;
  rules: string[];
}

/** Pipeline picker with each pipeline's rules in plain words, the cost line and the submit. */
export function ProcessPanel({
  pipelines,
  pipeline,
  onPipelineChange,
  selectedCount,
  creditsPerImage,
  available,
  submitting,
  error,
  onSubmit,
}: {
  pipelines: PipelineChoice[];
  pipeline: string;
  onPipelineChange: (id: string) => void;
  selectedCount: number;
  creditsPerImage: number;
  available: number;
  submitting: boolean;
  error: string | null;
  onSubmit: () => void;
}) {
  const cost = costSummary(selectedCount, creditsPerImage, available);
  const chosen = pipelines.find((p) => p.id === pipeline);
  return (
    <Card>
      <BlockStack gap="400">
        <Text as="h2" variant="headingMd">
          Process selected images
        </Text>
        <ChoiceList
          title="Pipeline"
          choices={pipelines.map((p) => ({ label: p.label, value: p.id, helpText: p.summary }))}
          selected={[pipeline]}
          onChange={(values) => onPipelineChange(values[0] ?? pipeline)}
        />
        {chosen ? (
          <BlockStack gap="100">
            <Text as="h3" variant="headingSm">
              What {chosen.label} does
            </Text>
            <List type="bullet">
              {chosen.rules.map((rule) => (
                <List.Item key={rule}>{rule}</List.Item>
              ))}
            </List>
          </BlockStack>
        ) : null}
        <div data-testid="cost-line">
          <Text as="p" variant="bodyMd" fontWeight="semibold">
            {cost.line}
          </Text>
        </div>
        <Text as="p" tone="subdued" variant="bodySm">
          Credits are charged only for images that are processed successfully. You can restore any original later.
        </Text>
        {error ? (
          <Banner tone="critical" title="The batch was not started">
            <p>{error}</p>
          </Banner>
        ) : null}
        <Button variant="primary" size="large" fullWidth onClick={onSubmit} loading={submitting} disabled={Boolean(cost.blockedReason) || submitting}>
          {`Process ${cost.images} image${cost.images === 1 ? "" : "s"}`}
        </Button>
        {cost.blockedReason ? (
          <div data-testid="submit-blocked-reason">
            <Text as="p" tone={cost.short ? "critical" : "subdued"} variant="bodySm">
              {cost.blockedReason}{" "}
              {cost.short ? (
                <Link url="/app/credits" removeUnderline={false}>
                  Buy credits
                </Link>
              ) : null}
            </Text>
          </div>
        ) : null}
      </BlockStack>
    </Card>
  );
}
