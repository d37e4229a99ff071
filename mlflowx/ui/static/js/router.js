// The hash router: the URL after "#" picks a page module and its parameters. Links printed by
// MLflow's client ("#/experiments/1/runs/<id>", "#/models/m/versions/3") land on the same pages.
import { ApiError } from "./api.js";
import { clear, h } from "./dom.js";

/** [pattern, page name, module]; ":name" captures one segment, "*rest" the remainder. */
export const ROUTES = [
  ["/", "experiments", "./pages/experiments.js"],
  ["/experiments", "experiments", "./pages/experiments.js"],
  ["/experiments/:experimentId", "runs", "./pages/runs.js"],
  ["/experiments/:experimentId/runs", "runs", "./pages/runs.js"],
  ["/experiments/:experimentId/runs/:runId", "run", "./pages/run.js"],
  ["/experiments/:experimentId/runs/:runId/artifacts/*artifactPath", "run", "./pages/run.js"],
  ["/experiments/:experimentId/runs/:runId/artifactPath/*artifactPath", "run", "./pages/run.js"],
  ["/runs/:runId", "run", "./pages/run.js"],
  ["/experiments/:experimentId/models/:modelId", "logged-model", "./pages/logged_model.js"],
  ["/compare-runs", "compare", "./pages/compare.js"],
  ["/compare-experiments/:experimentIds", "runs", "./pages/runs.js"],
  ["/models", "models", "./pages/models.js"],
  ["/models/:name", "model", "./pages/model.js"],
  ["/models/:name/versions/:version", "version", "./pages/version.js"],
];

export function match(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [pathPart, queryPart = ""] = raw.split("?", 2);
  const path = pathPart.length > 1 ? pathPart.replace(/\/+$/, "") : pathPart;
  const segments = path.split("/").filter(Boolean);
  for (const [pattern, page, module] of ROUTES) {
    const parts = pattern.split("/").filter(Boolean);
    const params = {};
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const part = parts[i];
      if (part.startsWith("*")) {
        params[part.slice(1)] = segments.slice(i).map(decodeURIComponent).join("/");
        if (!params[part.slice(1)]) ok = false;
        break;
      }
      if (i >= segments.length) ok = false;
      else if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(segments[i]);
      else if (part !== segments[i]) ok = false;
    }
    const wildcard = parts.length && parts.at(-1).startsWith("*");
    if (ok && (wildcard ? segments.length >= parts.length : segments.length === parts.length)) {
      return { page, module, params, query: new URLSearchParams(queryPart) };
    }
  }
  return null;
}

/** Start routing into ``root``: one page at a time, the previous one cleaned up first. */
export function start(root) {
  let cleanup = null;
  let generation = 0;

  async function show() {
    const current = ++generation;
    if (typeof cleanup === "function") cleanup();
    cleanup = null;
    const route = match(location.hash);
    for (const a of document.querySelectorAll("[data-nav]")) {
      const section = route && ["models", "model", "version"].includes(route.page) ? "models" : "experiments";
      a.classList.toggle("active", a.dataset.nav === section);
    }
    root.setAttribute("aria-busy", "true");
    if (!route) {
      root.dataset.page = "not-found";
      clear(root, errorPanel("Page not found", `Nothing lives at ${location.hash}.`));
      root.setAttribute("aria-busy", "false");
      return;
    }
    root.dataset.page = route.page;
    try {
      const page = await import(route.module);
      if (current !== generation) return;
      clear(root);
      const done = await page.render(root, route.params, route.query);
      if (current !== generation) {
        if (typeof done === "function") done();
        return;
      }
      cleanup = done;
    } catch (err) {
      if (current !== generation || err?.name === "AbortError") return;
      console.warn(err);
      const notFound = err instanceof ApiError && err.status === 404;
      clear(root, errorPanel(notFound ? "Not found" : "Something went wrong", err.message || String(err)));
    }
    if (current === generation) root.setAttribute("aria-busy", "false");
  }

  window.addEventListener("hashchange", show);
  return show();
}

/**
 * Record a page's own state (filters, sort) in the URL without a history entry. A page that is
 * no longer shown (a late, debounced reload) leaves the URL alone.
 */
export function replaceQuery(hashPath, query) {
  const current = location.hash.replace(/^#/, "").split("?")[0] || "/";
  if (current !== hashPath && !(hashPath === "/experiments" && current === "/")) return;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  history.replaceState(null, "", `#${hashPath}${s ? `?${s}` : ""}`);
}

export function errorPanel(title, message) {
  return h("div", { class: "card error-panel", role: "alert" }, h("h2", {}, title), h("p", {}, message), h("a", { href: "#/" }, "Back to experiments"));
}

let pending = 0;

/**
 * Mark the page busy while ``promise`` runs (a later reload: a new sort, page or filter); with
 * several under way, the page is busy until the last ends.
 */
export async function busy(promise) {
  const root = document.getElementById("app");
  pending++;
  root.setAttribute("aria-busy", "true");
  try {
    return await promise;
  } finally {
    if (--pending === 0) root.setAttribute("aria-busy", "false");
  }
}
