/**
 * npm run bench -- web-vitals (or: npx tsx bench/web-vitals.ts [--loads 5])
 * Built for Shopify's admin Web Vitals for each page of the app, in Chromium against the stand-ins (the built app,
 * scripts/serve-e2e.ts, 50 products x 4 images): LCP and CLS over fresh loads, INP of a checkbox click on the Images
 * page, p75 of each. CLS is layout (the same on any machine); LCP and INP are times, printed with their ratio to the
 * same page load's floor, the LCP of a bare HTML page served by the same server in the same run.
 */
import { measureWebVitals } from "../test/browser/web-vitals";

const loads = Number(process.argv[process.argv.indexOf("--loads") + 1]) || 5;
const report = await measureWebVitals({ products: 50, imagesPerProduct: 4, loads });
console.log(JSON.stringify(report, null, 2));
