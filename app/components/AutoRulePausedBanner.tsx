import { Banner } from "@shopify/polaris";
import { useNavigate } from "@remix-run/react";

/** Shown on every page while the automatic rule is paused (its budget or the balance ran out). */
export function AutoRulePausedBanner({ reason, pausedFor }: { reason: string; pausedFor: string | null }) {
  const navigate = useNavigate();
  return (
    <section style={{ maxWidth: "62.375rem", margin: "0 auto", padding: "16px 24px 0" }}>
      <Banner
        tone="warning"
        title="Automatic cleanup of new products is paused"
        action={pausedFor === "balance" ? { content: "Buy credits", onAction: () => navigate("/app/credits") } : { content: "Open settings", onAction: () => navigate("/app/settings") }}
        secondaryAction={pausedFor === "balance" ? { content: "Open settings", onAction: () => navigate("/app/settings") } : undefined}
      >
        {reason}
      </Banner>
    </section>
  );
}
