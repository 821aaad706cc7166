import { Suspense, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useFetcher } from "@remix-run/react";
import { useAppBridge } from "@shopify/app-bridge-react";
import { Banner, BlockStack, Box, Button, Card, Checkbox, InlineStack, List, Tabs, Text } from "@shopify/polaris";
import { useMessageText } from "~/i18n/messages";
import type { ErrorPayload } from "~/lib/merchant-message";
import { CompareModal, type CompareTarget } from "./CompareModal";
import { message, useGalleryText } from "./gallery-messages";
import { applyFilter, bulkReviewableIds, filterTabs, type BatchPipeline, type GalleryFilter } from "./gallery-model";
import { CreditsPerImageContext } from "./credits-per-image";
import { GalleryTile, imageTitle } from "./GalleryTile";
import type { BatchItemView } from "./item-view";

type ReviewOutcome = { id: string; ok: true } | ({ id: string; ok: false; status: number } & ErrorPayload);
type ReviewAnswer = { ok: boolean; decision?: "approve" | "reject"; outcomes?: ReviewOutcome[] } & Partial<ErrorPayload>;

/** True when a key press belongs to a field the merchant is typing in, not to a shortcut. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button"].includes((target as HTMLInputElement).type);
}

/**
 * The batch page's images as a gallery: state filters with counts, bulk approve/reject of held images (checkboxes,
 * Space to tick, A/R shortcuts while the gallery has focus), the tiles, and one comparison dialog.
 */
export function BatchGallery({
  batchId,
  items,
  batch,
  creditsPerImage,
}: {
  batchId: string;
  items: BatchItemView[];
  batch: BatchPipeline;
  creditsPerImage: number;
}) {
  const shopify = useAppBridge();
  const t = useGalleryText();
  const messageText = useMessageText();
  const [filter, setFilter] = useState<GalleryFilter>("all");
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [compare, setCompare] = useState<CompareTarget | null>(null);
  const [refused, setRefused] = useState<Array<{ title: string; error: string }>>([]);
  const bulk = useFetcher<ReviewAnswer>();
  const answered = useRef<ReviewAnswer | null>(null);

  const reviewable = useMemo(() => bulkReviewableIds(items), [items]);
  const tabs = useMemo(() => filterTabs(items, filter), [items, filter]);
  const shown = useMemo(() => applyFilter(items, filter), [items, filter]);
  const titles = useMemo(() => new Map(items.map((item) => [item.id, t(imageTitle(item))])), [items, t]);

  // An image that is no longer held (approved elsewhere, polled) leaves the selection.
  const chosen = useMemo(() => [...selected].filter((id) => reviewable.includes(id)), [selected, reviewable]);
  const count = chosen.length;
  const busy = bulk.state !== "idle";

  const onSelect = useCallback((id: string, on: boolean) => {
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }, []);

  const submit = useCallback(
    (decision: "approve" | "reject") => {
      if (chosen.length === 0 || busy) return;
      const form = new URLSearchParams({ decision });
      for (const id of chosen) form.append("itemId", id);
      bulk.submit(form, { method: "post", action: `/app/batches/${encodeURIComponent(batchId)}/review` });
    },
    [batchId, bulk, busy, chosen],
  );

  useEffect(() => {
    const data = bulk.data;
    if (bulk.state !== "idle" || !data || answered.current === data) return;
    answered.current = data;
    if (data.error) {
      shopify.toast.show(messageText(data) ?? data.error, { isError: true });
      return;
    }
    const outcomes = data.outcomes ?? [];
    const done = outcomes.filter((o) => o.ok).map((o) => o.id);
    const failed = outcomes.filter((o): o is Extract<ReviewOutcome, { ok: false }> => !o.ok);
    if (done.length) {
      shopify.toast.show(t(message(data.decision === "reject" ? "bulk.rejected" : "bulk.approved", { count: done.length })));
    }
    setRefused(failed.map((o) => ({ title: titles.get(o.id) ?? o.id, error: messageText(o) ?? o.error })));
    setSelected((current) => new Set([...current].filter((id) => !done.includes(id))));
  }, [bulk.state, bulk.data, shopify, titles, t, messageText]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target) || compare) return;
    const key = event.key.toLowerCase();
    if (key !== "a" && key !== "r") return;
    if (count === 0) return;
    event.preventDefault();
    submit(key === "a" ? "approve" : "reject");
  };

  const allChecked = reviewable.length > 0 && count === reviewable.length;
  const selectedIndex = Math.max(
    0,
    tabs.findIndex((tab) => tab.filter === filter),
  );

  // Polaris Tabs measures its tabs when it renders; ticking a checkbox must not render it again (INP).
  const filterBar = useMemo(
    () => (
      <Tabs
        tabs={tabs.map((tab) => ({
          id: `filter-${tab.filter}`,
          content: t(tab.label),
          badge: String(tab.count),
          accessibilityLabel: t(message("filter.tabLabel", { label: tab.label, count: tab.count })),
          panelID: "batch-gallery-panel",
        }))}
        selected={selectedIndex}
        onSelect={(index) => setFilter(tabs[index]?.filter ?? "all")}
      />
    ),
    [tabs, selectedIndex, t],
  );

  return (
    // The shortcuts listen on the gallery only, so typing elsewhere on the page never approves anything.
    <CreditsPerImageContext.Provider value={creditsPerImage}>
      <div onKeyDown={onKeyDown} data-testid="batch-gallery">
        <BlockStack gap="300">
          <Card padding="0">
            {filterBar}
            {reviewable.length > 0 ? (
              <Box padding="300" borderBlockStartWidth="025" borderColor="border">
                <div data-testid="bulk-bar">
                  <BlockStack gap="200">
                    <InlineStack gap="300" blockAlign="center">
                      <Checkbox
                        label={t(message("bulk.selectAllHeld", { count: reviewable.length }))}
                        checked={allChecked ? true : count > 0 ? "indeterminate" : false}
                        onChange={(on) => setSelected(new Set(on ? reviewable : []))}
                      />
                      <Text as="span" tone="subdued">
                        {t(message("bulk.selected", { count }))}
                      </Text>
                      <Button
                        variant="primary"
                        disabled={count === 0}
                        loading={busy && bulk.formData?.get("decision") === "approve"}
                        onClick={() => submit("approve")}
                      >
                        {t(count ? message("bulk.approve", { count }) : message("bulk.approveSelected"))}
                      </Button>
                      <Button
                        tone="critical"
                        disabled={count === 0}
                        loading={busy && bulk.formData?.get("decision") === "reject"}
                        onClick={() => submit("reject")}
                      >
                        {t(count ? message("bulk.reject", { count }) : message("bulk.rejectSelected"))}
                      </Button>
                    </InlineStack>
                    <Text as="p" tone="subdued" variant="bodySm">
                      {t(message("bulk.hint"))}
                    </Text>
                  </BlockStack>
                </div>
              </Box>
            ) : null}
          </Card>
          {refused.length ? (
            <Banner tone="warning" title={t(message("bulk.refusedTitle", { count: refused.length }))} onDismiss={() => setRefused([])}>
              <List>
                {refused.map((r) => (
                  <List.Item key={r.title}>{t(message("bulk.refusedLine", { title: r.title, error: r.error }))}</List.Item>
                ))}
              </List>
            </Banner>
          ) : null}
          <div id="batch-gallery-panel" role="tabpanel" aria-labelledby={`filter-${tabs[selectedIndex]?.filter ?? "all"}`}>
            {shown.length === 0 ? (
              <Card>
                <Text as="p" tone="subdued">
                  {t(message("filter.empty"))}
                </Text>
              </Card>
            ) : (
              <ul className="batch-gallery-grid" aria-label={t(message("gallery.label"))}>
                {shown.map((item) => (
                  // A boundary per tile lets React hydrate each tile on its own: a click on one while the page is still
                  // hydrating waits for that tile only, not for all thirty (INP).
                  <Suspense key={item.versions[0]?.id ?? item.id}>
                    <GalleryTile item={item} batch={batch} selected={selected.has(item.id)} onSelect={onSelect} onCompare={setCompare} />
                  </Suspense>
                ))}
              </ul>
            )}
          </div>
        </BlockStack>
        <CompareModal target={compare} onClose={() => setCompare(null)} />
      </div>
    </CreditsPerImageContext.Provider>
  );
}
