// Local stand-in for https://cdn.shopify.com/shopifycloud/app-bridge.js, served by browser tests in its
// place. It provides the parts of the `shopify` global this app uses, with App Bridge's observable
// behaviour: same-origin fetches carry `Authorization: Bearer <id token>`, a 401 asking for a retry is
// retried once with a fresh token, and a reauthorize/redirect header opens that URL in the top window.
// Session tokens come from the test (window.__mintIdToken, exposed by Playwright), else from the
// id_token the page was opened with.
(() => {
  if (window.shopify) return;
  const script = document.currentScript;
  const params = new URLSearchParams(window.location.search);
  const initialToken = params.get("id_token");
  const state = { toasts: [], pickerSelection: undefined, pickerCalls: [], loading: false, redirects: [] };

  async function idToken() {
    if (typeof window.__mintIdToken === "function") return window.__mintIdToken();
    if (initialToken) return initialToken;
    throw new Error("App Bridge stand-in: no session token available");
  }

  // Toasts are rendered in the page so tests (and screenshots) can see them, like admin shows them.
  let toastRoot;
  function showToast(message, options = {}) {
    const id = `toast-${state.toasts.length + 1}`;
    state.toasts.push({ id, message, isError: Boolean(options.isError) });
    if (!toastRoot) {
      toastRoot = document.createElement("div");
      toastRoot.setAttribute("data-app-bridge-toasts", "");
      toastRoot.setAttribute("role", "status");
      toastRoot.setAttribute("aria-live", "polite");
      toastRoot.style.cssText =
        "position:fixed;left:50%;bottom:24px;transform:translateX(-50%);z-index:10000;display:flex;flex-direction:column;gap:8px;pointer-events:none";
      document.body.appendChild(toastRoot);
    }
    const el = document.createElement("div");
    el.textContent = message;
    el.dataset.toastId = id;
    el.style.cssText = `background:${options.isError ? "#8e1f0b" : "#303030"};color:#fff;padding:10px 16px;border-radius:10px;font:500 13px/20px Inter,system-ui,sans-serif;box-shadow:0 4px 12px rgba(0,0,0,.2)`;
    toastRoot.appendChild(el);
    setTimeout(() => el.remove(), options.duration ?? 5000);
    return id;
  }

  function openTop(url) {
    state.redirects.push(url);
    window.open(url, "_top");
  }

  const nativeFetch = window.fetch.bind(window);
  async function appBridgeFetch(input, init) {
    const request = new Request(input, init);
    const sameOrigin = new URL(request.url).origin === window.location.origin;
    if (!sameOrigin) return nativeFetch(request);
    const send = async () => {
      const authorised = new Request(request.clone());
      if (!authorised.headers.has("Authorization")) authorised.headers.set("Authorization", `Bearer ${await idToken()}`);
      return nativeFetch(authorised);
    };
    let response = await send();
    if (response.status === 401 && response.headers.get("X-Shopify-Retry-Invalid-Session-Request") === "1") {
      response = await send();
    }
    const reauthorizeUrl = response.headers.get("X-Shopify-API-Request-Failure-Reauthorize-Url");
    if (reauthorizeUrl) {
      openTop(reauthorizeUrl);
      // The page is leaving: settle nothing, so the app does not render the 401 as an error meanwhile.
      return new Promise(() => undefined);
    }
    return response;
  }
  window.fetch = appBridgeFetch;

  // Admin renders these outside the app's iframe; here they only need to exist and stay out of the way. Hidden by a
  // stylesheet, not an inline style: an attribute added before React hydrates would not match the server's HTML.
  const hiddenTags = ["ui-nav-menu", "ui-title-bar", "ui-modal", "ui-save-bar", "s-app-nav", "s-app-window"];
  for (const tag of hiddenTags) {
    if (!customElements.get(tag)) customElements.define(tag, class extends HTMLElement {});
  }
  const hide = document.createElement("style");
  hide.textContent = `${hiddenTags.join(", ")} { display: none; }`;
  document.head.appendChild(hide);

  const noop = () => undefined;
  const asyncNoop = async () => undefined;
  window.shopify = {
    config: {
      apiKey: script?.dataset.apiKey ?? "",
      shop: params.get("shop") ?? "",
      host: params.get("host") ?? "",
      locale: params.get("locale") ?? "en-US",
    },
    origin: window.location.origin,
    ready: Promise.resolve(),
    environment: { embedded: true, mobile: false, pos: false },
    idToken,
    toast: { show: showToast, hide: noop },
    loading: (on) => {
      state.loading = on === undefined ? state.loading : Boolean(on);
      return state.loading;
    },
    resourcePicker: async (options) => {
      state.pickerCalls.push(options);
      return state.pickerSelection;
    },
    modal: { show: asyncNoop, hide: asyncNoop, toggle: asyncNoop },
    saveBar: { show: asyncNoop, hide: asyncNoop, toggle: asyncNoop, leaveConfirmation: asyncNoop },
    user: async () => ({ accountAccess: "Account owner" }),
    scopes: { query: async () => ({ granted: [], required: [], optional: [] }) },
  };

  // What tests use to act as Shopify admin around the app.
  window.__appBridge = {
    state,
    /** Clicks an app nav item the way admin does: a shopify:navigate event on the nav menu's link. */
    navigate(href) {
      const link = [...document.querySelectorAll("ui-nav-menu a")].find((a) => a.getAttribute("href") === href);
      if (!link) throw new Error(`App Bridge stand-in: no nav item for ${href}`);
      link.dispatchEvent(new CustomEvent("shopify:navigate", { bubbles: true }));
    },
    navItems() {
      return [...document.querySelectorAll("ui-nav-menu a")].map((a) => ({ href: a.getAttribute("href"), label: a.textContent }));
    },
    setPickerSelection(selection) {
      state.pickerSelection = selection;
    },
  };
})();
