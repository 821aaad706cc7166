import { Banner } from "@shopify/polaris";
import { useNavigate } from "@remix-run/react";

/** Below this many images' worth of credits the layout warns on every page but Credits. */
export const LOW_BALANCE_IMAGES = 5;

export function isLowBalance(available: number, creditsPerImage: number): boolean {
  return available < LOW_BALANCE_IMAGES * creditsPerImage;
}

export function LowBalanceBanner({ available, creditsPerImage }: { available: number; creditsPerImage: number }) {
  const navigate = useNavigate();
  if (!isLowBalance(available, creditsPerImage)) return null;
  const images = Math.floor(available / creditsPerImage);
  const empty = images === 0;
  return (
    <section style={{ maxWidth: "62.375rem", margin: "0 auto", padding: "16px 24px 0" }}>
      <Banner
          tone={empty ? "critical" : "warning"}
          title={empty ? "You are out of credits" : `Low balance: ${available} credits left`}
          action={{ content: "Buy credits", onAction: () => navigate("/app/credits") }}
        >
          {empty
            ? `Each image costs ${creditsPerImage} credits. Buy a pack to process images.`
            : `That is enough for ${images} more image${images === 1 ? "" : "s"} at ${creditsPerImage} credits each.`}
      </Banner>
    </section>
  );
}
