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
  const metrics = (model.data?.metrics || []).map((m) => [m.key, fmtNumber(m.value)]);
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
      h("div", {}, section("Parameters", kvTable(params_, { empty: "No parameters." })), section("Metrics", kvTable(metrics, { empty: "No metrics." }))),
    ),
    section("Tags", kvTable(Object.entries(tags), { empty: "No tags." })),
  );
  const files = section("Files");
  root.append(files);
  artifactBrowser(files, loggedModelArtifacts(info.model_id), { snippet: () => `models:/${info.model_id}` });
}
