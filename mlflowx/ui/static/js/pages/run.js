// The run page: overview, data tables, metric charts, logged models, datasets and artifacts.
// "#/experiments/<id>/runs/<run_id>" (MLflow's link) and ".../artifacts/<path>" open it.
import { getExperiment, getRun, renameRun, runArtifacts, uiConfig } from "../api.js";
import { runView } from "../entities.js";
import { h, href, statusBadge } from "../dom.js";
import { replaceQuery } from "../router.js";
import { tabs } from "../components/tabs.js";
import { openForm } from "../components/modal.js";
import { attempt } from "../components/toast.js";
import { metricCharts } from "../components/metric_charts.js";
import { artifactBrowser } from "../components/artifacts.js";
import { overview } from "./run/overview.js";
import { datasetsSection, metricsSection, modelsSection, paramsSection, tagsSection } from "./run/sections.js";

export async function render(root, params, query) {
  // The link names the experiment: ask for it with the run rather than after it.
  const [raw, named, config] = await Promise.all([
    getRun(params.runId),
    params.experimentId ? getExperiment(params.experimentId).catch(() => null) : null,
    uiConfig().catch(() => ({})),
  ]);
  const run = runView(raw);
  const experiment = named && named.experiment_id === run.experimentId ? named : await getExperiment(run.experimentId);
  const base = `/experiments/${encodeURIComponent(run.experimentId)}/runs/${encodeURIComponent(run.id)}`;
  const cleanups = [];
  let tab = params.artifactPath ? "artifacts" : query.get("tab") || "overview";

  const name = h("h1", { "data-testid": "run-name" }, run.name || run.id);
  const head = h(
    "div",
    { class: "page-head" },
    h(
      "div",
      {},
      h("div", { class: "breadcrumbs" }, h("a", { href: href.experiments() }, "Experiments"), h("a", { href: href.experiment(run.experimentId) }, experiment.name)),
      h("div", { class: "title-row" }, name, statusBadge(run.status)),
    ),
    h("span", { class: "spacer" }),
    h("button", { type: "button", class: "btn", "data-testid": "rename-run", onclick: rename }, "Rename"),
  );

  async function rename() {
    const values = await openForm({ title: "Rename run", submit: "Rename", fields: [{ name: "name", label: "Run name", value: run.name, required: true }] });
    if (!values || values.name === run.name) return;
    if ((await attempt(() => renameRun(run.id, values.name), `Renamed to ${values.name}`)) === undefined) return;
    run.name = values.name;
    name.textContent = values.name;
  }

  const metricKeys = Object.keys(run.metrics).sort();
  const sections = tabs(
    [
      {
        id: "overview",
        label: "Overview",
        render: async (panel) => {
          panel.append(h("div", { class: "loading" }, "Loading…"));
          const [about, models] = await Promise.all([overview(run, experiment, config), modelsSection(run)]);
          panel.replaceChildren(
            h("div", { class: "grid-2" }, h("div", {}, about), h("div", {}, paramsSection(run), metricsSection(run, showChart))),
            tagsSection(run),
            models,
            datasetsSection(run),
          );
        },
      },
      { id: "metrics", label: `Metric charts (${metricKeys.length})`, render: (panel) => cleanups.push(metricCharts(panel, { runs: [{ id: run.id, name: run.name }], keys: metricKeys })) },
      {
        id: "artifacts",
        label: "Artifacts",
        render: (panel) =>
          artifactBrowser(panel, runArtifacts(run.id), {
            selected: params.artifactPath,
            onSelect: (path) => history.replaceState(null, "", `#${base}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`),
            snippet: (dir) => `runs:/${run.id}${dir ? `/${dir}` : ""}`,
          }),
      },
    ],
    {
      active: tab,
      onChange: (id) => {
        tab = id;
        if (id !== "artifacts") replaceQuery(base, { tab: id === "overview" ? "" : id });
      },
    },
  );

  function showChart(key) {
    sections.querySelector('[role="tab"][data-tab="metrics"]').click();
    requestAnimationFrame(() => sections.querySelector(`.chart-card[data-metric="${CSS.escape(key)}"]`)?.scrollIntoView({ block: "center" }));
  }

  root.append(head, sections);
  await sections.ready; // the first panel draws before the page counts as loaded
  return () => cleanups.forEach((fn) => fn());
}
