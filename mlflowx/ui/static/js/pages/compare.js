// Compare 2 to 100 runs: a diff table, overlaid metric charts, parallel coordinates and a
// scatter plot of any two columns. "#/compare-runs?runs=a,b" and MLflow's
// "#/compare-runs?runs=[\"a\",\"b\"]&experiments=[\"1\"]" both open it.
import { getExperiment, getRun } from "../api.js";
import { runView } from "../entities.js";
import { h, href, section } from "../dom.js";
import { color } from "../components/chart.js";
import { metricCharts } from "../components/metric_charts.js";
import { diffTable } from "./compare/diff.js";
import { parallelSection, scatterSection } from "./compare/plots.js";

export const MIN_RUNS = 2;
export const MAX_RUNS = 100;

/** The run ids of the link: a JSON array (MLflow's form) or a comma-separated list. */
export function runIdsOf(query) {
  const raw = (query.get("runs") || "").trim();
  let ids = [];
  if (raw.startsWith("[")) {
    try {
      ids = JSON.parse(raw).map(String);
    } catch {
      ids = [];
    }
  } else {
    ids = raw.split(",");
  }
  return [...new Set(ids.map((s) => s.trim()).filter(Boolean))];
}

async function mapLimited(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function render(root, params, query) {
  const ids = runIdsOf(query);
  const head = h("div", { class: "page-head" }, h("div", {}, h("div", { class: "breadcrumbs" }, h("a", { href: href.experiments() }, "Experiments")), h("h1", {}, `Comparing ${ids.length} runs`)));
  if (ids.length < MIN_RUNS || ids.length > MAX_RUNS) {
    root.append(head, h("div", { class: "card error-panel", role: "alert", "data-testid": "compare-message" }, h("h2", {}, "Choose 2 to 100 runs"), h("p", {}, `This link names ${ids.length} run${ids.length === 1 ? "" : "s"}; compare takes ${MIN_RUNS} to ${MAX_RUNS}. Select runs in an experiment's runs table and press Compare.`)));
    return;
  }
  const runs = (await mapLimited(ids, 8, getRun)).map(runView);
  const colorOf = (i) => color(i);
  const experiments = [...new Set(runs.map((r) => r.experimentId))];
  if (experiments.length === 1) {
    const experiment = await getExperiment(experiments[0]).catch(() => ({ name: `Experiment ${experiments[0]}` }));
    head.querySelector(".breadcrumbs").append(h("a", { href: href.experiment(experiments[0]) }, experiment.name));
  }
  const chips = h(
    "div",
    { class: "run-chips", "data-testid": "compare-runs" },
    runs.map((r, i) => h("a", { class: "run-chip", href: href.run(r.experimentId, r.id), "data-run-id": r.id }, h("span", { class: "swatch", style: { background: colorOf(i) } }), r.name || r.id)),
  );
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const charts = section("Metrics over time");
  const parallel = section("Parallel coordinates");
  const scatter = section("Scatter plot");
  root.append(head, chips, section("Differences", diffTable(runs, colorOf)), parallel, scatter, charts);
  parallelSection(parallel, runs, colorOf);
  const cleanups = [scatterSection(scatter, runs), metricCharts(charts, { runs: runs.map((r) => ({ id: r.id, name: r.name })), keys: metricKeys })];
  return () => cleanups.forEach((fn) => fn());
}
