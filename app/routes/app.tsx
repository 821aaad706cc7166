import { useEffect, useState } from "react";
import { json, type HeadersFunction, type LoaderFunctionArgs } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useLocation, useRouteError } from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import { I18nextProvider, useTranslation } from "react-i18next";
import { AutoRulePausedBanner } from "~/components/AutoRulePausedBanner";
import { LowBalanceBanner } from "~/components/LowBalanceBanner";
import { ShopUnavailableBanner } from "~/components/ShopUnavailableBanner";
import db from "~/db.server";
import { detectLocale } from "~/i18n/locale.server";
import { i18nFor, type Locale } from "~/i18n/locales";
import { POLARIS_TRANSLATIONS } from "~/i18n/polaris";
import { getConfig } from "~/lib/config.server";
import { storedMessage } from "~/lib/merchant-message";
import { CREDITS_PER_IMAGE, getBalance } from "~/models/credit-ledger.server";
import { storedUnavailableStatus } from "~/models/shop-availability.server";
import { authenticate } from "../shopify.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [balance, shopRow, detected] = await Promise.all([
    getBalance(db, session.shop),
    db.shop.findUnique({
      where: { domain: session.shop },
      select: {
        autoCleanEnabled: true,
        autoCleanPausedFor: true,
        autoCleanPauseReason: true,
        autoCleanPauseMessage: true,
        unavailableAt: true,
        unavailableStatus: true,
      },
    }),
    detectLocale(request),
  ]);
  const autoRulePaused =
    shopRow?.autoCleanEnabled && shopRow.autoCleanPauseReason
      ? {
          reason: shopRow.autoCleanPauseReason,
          message: storedMessage(shopRow.autoCleanPauseMessage),
          pausedFor: shopRow.autoCleanPausedFor,
        }
      : null;
  // The worker's mark, not a call to Shopify: a job that finds the store answering again clears it.
  const unavailableStatus = storedUnavailableStatus(shopRow?.unavailableStatus);
  const shopUnavailable =
    unavailableStatus && shopRow?.unavailableAt ? { status: unavailableStatus, since: shopRow.unavailableAt.toISOString() } : null;
  return json(
    {
      apiKey: getConfig().SHOPIFY_API_KEY ?? "",
      balance: { available: balance.available },
      creditsPerImage: CREDITS_PER_IMAGE,
      autoRulePaused,
      shopUnavailable,
      locale: detected.locale,
      localeFromAdmin: detected.fromAdmin,
    },
    detected.setCookie ? { headers: { "Set-Cookie": detected.setCookie } } : undefined,
  );
};

/**
 * The page keeps the language Shopify admin opened it in: later loads (client-side navigations, revalidations)
 * carry no `locale` parameter, and a browser that refuses the app's cookie in admin's frame would otherwise
 * answer with its Accept-Language. Only a load that names the language again (admin) changes it.
 */
function usePageLocale(locale: Locale, fromAdmin: boolean): Locale {
  const [pageLocale, setPageLocale] = useState(locale);
  useEffect(() => {
    if (fromAdmin && locale !== pageLocale) setPageLocale(locale);
  }, [fromAdmin, locale, pageLocale]);
  useEffect(() => {
    document.documentElement.lang = pageLocale;
  }, [pageLocale]);
  return pageLocale;
}

export default function App() {
  const { apiKey, balance, creditsPerImage, autoRulePaused, shopUnavailable, locale, localeFromAdmin } = useLoaderData<typeof loader>();
  const pageLocale = usePageLocale(locale, localeFromAdmin);
  return (
    <I18nextProvider i18n={i18nFor(pageLocale)}>
      <AppProvider isEmbeddedApp apiKey={apiKey} i18n={POLARIS_TRANSLATIONS[pageLocale]}>
        <AppFrame balance={balance} creditsPerImage={creditsPerImage} autoRulePaused={autoRulePaused} shopUnavailable={shopUnavailable} />
      </AppProvider>
    </I18nextProvider>
  );
}

function AppFrame({
  balance,
  creditsPerImage,
  autoRulePaused,
  shopUnavailable,
}: Pick<ReturnType<typeof useLoaderData<typeof loader>>, "balance" | "creditsPerImage" | "autoRulePaused" | "shopUnavailable">) {
  const { t } = useTranslation();
  const { pathname } = useLocation();
  return (
    <>
      <NavMenu>
        <Link to="/app" rel="home">
          {t("nav.images")}
        </Link>
        <Link to="/app/batches">{t("nav.batches")}</Link>
        <Link to="/app/catalog">{t("nav.catalog")}</Link>
        <Link to="/app/credits">{t("nav.credits")}</Link>
        <Link to="/app/settings">{t("nav.settings")}</Link>
      </NavMenu>
      <ShopUnavailableBanner unavailable={shopUnavailable} />
      {pathname.startsWith("/app/credits") ? null : <LowBalanceBanner available={balance.available} creditsPerImage={creditsPerImage} />}
      {autoRulePaused ? (
        <AutoRulePausedBanner reason={autoRulePaused.reason} message={autoRulePaused.message} pausedFor={autoRulePaused.pausedFor} />
      ) : null}
      <Outlet />
    </>
  );
}

// Shopify needs Remix to catch thrown responses so their headers (auth redirects) survive.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
