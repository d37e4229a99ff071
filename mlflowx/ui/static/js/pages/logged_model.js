// A logged model (MLflow 3): its facts, params, metrics, tags and files.
// "#/experiments/<id>/models/<model_id>" (MLflow's route) opens it.
import { getExperiment, getLoggedModel, loggedModelArtifacts } from "../api.js";
import { copyButton, fmtNumber, fmtTime, h, href, section, statusBadge } from "../dom.js";
import { kvTable } from "../components/keyvalue.js";
import { artifactBrowser } from "../components/artifacts.js";

export async function render(root, params) {
  const model = await getLoggedModel(params.modelId);
  const info = model.info;
  const experiment = await getExperiment(info.experiment_id);
  const tags = Object.fromEntries((info.tags || []).map((t) => [t.key, t.value]));
  const params_ = (model.data?.params || []).map((p) => [p.key, p.value]);
  const facts = [
    ["Model ID", h("span", { class: "mono" }, info.model_id, copyButton(info.model_id, "Copy model ID"))],
    ["Status", statusBadge(String(info.status || "").replace("LOGGED_MODEL_", ""))],
    ["Experiment", h("a", { href: href.experiment(info.experiment_id) }, experiment.name)],
    ["Source run", info.source_run_id ? h("a", { href: href.run(info.experiment_id, info.source_run_id), "data-testid": "source-run" }, info.source_run_id) : null],
    ["Created", fmtTime(info.creation_timestamp_ms)],
    ["Model type", info.model_type],
    ["Artifact URI", h("span", { class: "mono" }, info.artifact_uri)],
  ].filter(([, v]) => v);
  root.append(
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("div", { class: "breadcrumbs" }, h("a", { href: href.experiments() }, "Experiments"), h("a", { href: href.experiment(info.experiment_id) }, experiment.name)), h("h1", {}, info.name)),
    ),
    h(
      "div",
      { class: "grid-2" },
      section("About this model", h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
      h("div", {}, section("Parameters", kvTable(params_, { empty: "No parameters." })), section("Metrics", metricsTable(info.experiment_id, model.data?.metrics || []))),
    ),
    section("Tags", kvTable(Object.entries(tags), { empty: "No tags." })),
  );
  const files = section("Files");
  root.append(files);
  artifactBrowser(files, loggedModelArtifacts(info.model_id), { snippet: () => `models:/${info.model_id}` });
}

// The model's metrics as MLflow's model page shows them: one row per metric, dataset and
// source run, with its latest value (highest step, then newest point).
function metricsTable(experimentId, points) {
  const latest = new Map();
  for (const m of points) {
    const id = [m.key, m.dataset_name || "", m.dataset_digest || "", m.run_id || ""].join("\u0000");
    const seen = latest.get(id);
    const step = Number(m.step || 0);
    const time = Number(m.timestamp || 0);
    if (!seen || step > Number(seen.step || 0) || (step === Number(seen.step || 0) && time >= Number(seen.timestamp || 0))) latest.set(id, m);
  }
  if (!latest.size) return h("p", { class: "muted", "data-testid": "model-metrics-empty" }, "No metrics.");
  const rows = [...latest.values()].sort((a, b) => a.key.localeCompare(b.key) || (a.dataset_name || "").localeCompare(b.dataset_name || ""));
  return h(
    "table",
    { class: "data-table", "data-testid": "model-metrics" },
    h("thead", {}, h("tr", {}, h("th", {}, "Metric"), h("th", {}, "Value"), h("th", {}, "Step"), h("th", {}, "Dataset"), h("th", {}, "Source run"))),
    h(
      "tbody",
      {},
      rows.map((m) =>
        h(
          "tr",
          { "data-metric": m.key },
          h("td", {}, m.key),
          h("td", { class: "num" }, fmtNumber(m.value)),
          h("td", { class: "num" }, String(m.step ?? 0)),
          h("td", {}, m.dataset_name ? `${m.dataset_name} (${m.dataset_digest || ""})` : "—"),
          h("td", {}, m.run_id ? h("a", { href: href.run(experimentId, m.run_id), class: "mono" }, m.run_id) : "—"),
        ),
      ),
    ),
  );
}
