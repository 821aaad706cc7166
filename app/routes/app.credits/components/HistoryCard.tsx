import { useNavigate, useSearchParams } from "@remix-run/react";
import { Badge, Box, Card, IndexTable, Pagination, Text } from "@shopify/polaris";
import { useTranslation } from "react-i18next";
import { useFormat } from "~/i18n/format";
import { useStoredText } from "~/i18n/messages";
import { BatchLine } from "./BatchLine";
import { badgeTone, isLedgerKind, signed, type CreditsView } from "./credits-view";

/** The credit history, one line per batch or ledger entry, paged by cursor (the previous cursors ride in the URL). */
export function HistoryCard({ history }: { history: CreditsView["history"] }) {
  const navigate = useNavigate();
  const [searchParams] = useSearchParams();
  const previous = (searchParams.get("prev") ?? "").split(",").filter(Boolean);
  const cursor = searchParams.get("cursor");
  const lines = history.lines;
  const { t } = useTranslation();
  const format = useFormat();
  const storedText = useStoredText();

  const goTo = (nextCursor: string | null, prev: string[]) => {
    const params = new URLSearchParams();
    if (nextCursor) params.set("cursor", nextCursor);
    if (prev.length > 0) params.set("prev", prev.join(","));
    navigate(`/app/credits${params.size > 0 ? `?${params}` : ""}`);
  };

  return (
    <Card padding="0">
      <Box padding="400">
        <Text as="h2" variant="headingMd">
          {t("credits.history")}
        </Text>
      </Box>
      {lines.length === 0 && !cursor ? (
        <Box padding="400" paddingBlockStart="0">
          <Text as="p" tone="subdued">
            {t("credits.noActivity")}
          </Text>
        </Box>
      ) : (
        <IndexTable
          resourceName={{ singular: t("credits.lineSingular"), plural: t("credits.linePlural") }}
          itemCount={lines.length}
          selectable={false}
          headings={[
            { title: t("credits.columns.date") },
            { title: t("credits.columns.activity") },
            { title: t("credits.columns.change"), alignment: "end" },
            { title: t("credits.columns.held"), alignment: "end" },
            { title: t("credits.columns.details") },
          ]}
          pagination={{
            hasPrevious: cursor != null,
            onPrevious: () => goTo(previous.at(-1) === "first" ? null : (previous.at(-1) ?? null), previous.slice(0, -1)),
            hasNext: history.nextCursor != null,
            onNext: () => goTo(history.nextCursor, [...previous, cursor ?? "first"]),
          }}
        >
          {lines.map((line, index) => (
            <IndexTable.Row id={line.key} key={line.key} position={index}>
              <IndexTable.Cell>{format.dateTime(line.at)}</IndexTable.Cell>
              <IndexTable.Cell>
                {line.batch ? (
                  <Badge tone="attention">{t("credits.batchBadge")}</Badge>
                ) : (
                  <Badge tone={badgeTone(line.kind ?? "")}>
                    {line.kind && isLedgerKind(line.kind) ? t(`credits.kind.${line.kind}`) : (line.kind ?? "")}
                  </Badge>
                )}
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric>
                  {signed(line.available, format.number)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                <Text as="span" alignment="end" numeric tone="subdued">
                  {line.held === 0 ? "" : signed(line.held, format.number)}
                </Text>
              </IndexTable.Cell>
              <IndexTable.Cell>
                {line.batch ? <BatchLine batch={line.batch} /> : (storedText(line.noteMessage, line.note) ?? "")}
              </IndexTable.Cell>
            </IndexTable.Row>
          ))}
        </IndexTable>
      )}
      {/* Pagination for screen readers and when the table is empty on a later page. */}
      {lines.length === 0 && cursor ? (
        <Box padding="400">
          <Pagination hasPrevious onPrevious={() => goTo(null, [])} hasNext={false} />
        </Box>
      ) : null}
    </Card>
  );
}
