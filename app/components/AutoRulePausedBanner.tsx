import { Banner } from "@shopify/polaris";
import { useNavigate } from "@remix-run/react";
import { useTranslation } from "react-i18next";
import { useStoredText } from "~/i18n/messages";
import type { MerchantMessage } from "~/lib/merchant-message";

/** Shown on every page while the automatic rule is paused (its budget or the balance ran out). */
export function AutoRulePausedBanner({
  reason,
  message,
  pausedFor,
}: {
  reason: string;
  message: MerchantMessage | null;
  pausedFor: string | null;
}) {
  const navigate = useNavigate();
  const { t } = useTranslation();
  const storedText = useStoredText();
  return (
    <section style={{ maxWidth: "62.375rem", margin: "0 auto", padding: "16px 24px 0" }}>
      <Banner
        tone="warning"
        title={t("autoRulePaused.title")}
        action={
          pausedFor === "balance"
            ? { content: t("autoRulePaused.buyCredits"), onAction: () => navigate("/app/credits") }
            : { content: t("autoRulePaused.openSettings"), onAction: () => navigate("/app/settings") }
        }
        secondaryAction={
          pausedFor === "balance" ? { content: t("autoRulePaused.openSettings"), onAction: () => navigate("/app/settings") } : undefined
        }
      >
        {storedText(message, reason)}
      </Banner>
    </section>
  );
}
