import { Banner } from "@shopify/polaris";
import { useNavigate } from "@remix-run/react";
import { useTranslation } from "react-i18next";

/** Below this many images' worth of credits the layout warns on every page but Credits. */
const LOW_BALANCE_IMAGES = 5;

function isLowBalance(available: number, creditsPerImage: number): boolean {
  return available < LOW_BALANCE_IMAGES * creditsPerImage;
}

export function LowBalanceBanner({ available, creditsPerImage }: { available: number; creditsPerImage: number }) {
  const navigate = useNavigate();
  const { t } = useTranslation();
  if (!isLowBalance(available, creditsPerImage)) return null;
  const images = Math.floor(available / creditsPerImage);
  const empty = images === 0;
  return (
    <section style={{ maxWidth: "62.375rem", margin: "0 auto", padding: "16px 24px 0" }}>
      <Banner
        tone={empty ? "critical" : "warning"}
        title={empty ? t("lowBalance.emptyTitle") : t("lowBalance.lowTitle", { available })}
        action={{ content: t("lowBalance.buyCredits"), onAction: () => navigate("/app/credits") }}
      >
        {empty ? t("lowBalance.emptyBody", { creditsPerImage }) : t("lowBalance.lowBody", { count: images, creditsPerImage })}
      </Banner>
    </section>
  );
}
