// One model version: stage, aliases, description, tags, signature, and its lineage: the run,
// the logged model, the Prefect flow run that made it, and where it is deployed.
// "#/models/<name>/versions/<v>" is the link MLflow's client prints after registering.
import {
  artifactUrl,
  deleteModelVersionTag,
  getLoggedModel,
  getModelVersion,
  getRegisteredModel,
  getRun,
  loggedModelArtifacts,
  rangeText,
  setModelVersionTag,
  transitionStage,
  uiConfig,
  updateModelVersion,
} from "../api.js";
import { runView } from "../entities.js";
import { copyButton, emptyState, fmtTime, h, href, section, statusBadge } from "../dom.js";
import { kvTable } from "../components/keyvalue.js";
import { attempt } from "../components/toast.js";
import { deploymentFacts, prefectFacts } from "../components/lineage.js";
import { signatureTables } from "../components/mlmodel.js";
import { STAGES, aliasEditor, descriptionEditor, stageBadge } from "./registry/common.js";

function facts(pairs, testid) {
  return h("dl", { class: "facts", "data-testid": testid }, pairs.filter(([, v]) => v).map(([k, v]) => [h("dt", {}, k), h("dd", { "data-fact": k }, v)]));
}

/** The MLmodel text of a version: from its logged model's files, else from its run's artifacts. */
async function mlmodelText(version, run) {
  if (version.model_id) {
    try {
      return (await rangeText(loggedModelArtifacts(version.model_id).url("MLmodel"))).text;
    } catch {}
  }
  const m = /^runs:\/[^/]+\/(.+)$/.exec(version.source || "");
  if (run && m) {
    try {
      return (await rangeText(artifactUrl(run.id, `${m[1].replace(/\/$/, "")}/MLmodel`))).text;
    } catch {}
  }
  return null;
}

export async function render(root, params) {
  const { name } = params;
  const version = await getModelVersion(name, params.version);
  const [model, run, loggedModel, config] = await Promise.all([
    getRegisteredModel(name),
    version.run_id ? getRun(version.run_id).then(runView).catch(() => null) : null,
    version.model_id ? getLoggedModel(version.model_id).catch(() => null) : null,
    uiConfig().catch(() => ({})),
  ]);
  const tags = Object.fromEntries((version.tags || []).map((t) => [t.key, t.value]));
  const runTags = run ? run.tags : {};
  const aliases = (model.aliases || []).map((a) => ({ alias: a.alias, version: a.version }));
  const stageBox = h("span", { "data-testid": "stage" }, stageBadge(version.current_stage));

  const stageSelect = h("select", { "aria-label": "Stage", "data-testid": "stage-select" }, STAGES.map((s) => h("option", { value: s, selected: s === (version.current_stage || "None") }, s)));
  const archive = h("input", { type: "checkbox", "data-testid": "archive-existing" });
  const transition = h(
    "div",
    { class: "toolbar" },
    stageSelect,
    h("label", { class: "check" }, archive, "Archive other versions in this stage"),
    h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        "data-testid": "transition",
        onclick: async () => {
          const stage = stageSelect.value;
          const done = await attempt(() => transitionStage(name, version.version, stage, archive.checked), `Version ${version.version} moved to ${stage}`);
          if (done !== undefined) stageBox.replaceChildren(stageBadge(stage));
        },
      },
      "Move",
    ),
  );

  // Lineage: the run and the Prefect flow run that made the version (its own tags, else its
  // run's), the logged model, and where it is deployed.
  const prefect = prefectFacts(Object.keys(tags).some((k) => k.startsWith("mlflowx.prefect.")) ? tags : runTags, config.prefect_ui_url);
  const lineage = facts(
    [
      ["Run", run ? h("a", { href: href.run(run.experimentId, run.id), "data-testid": "run-link" }, run.name || run.id) : version.run_id ? h("span", { class: "mono" }, version.run_id) : null],
      ["Logged model", loggedModel ? h("a", { href: href.loggedModel(loggedModel.info.experiment_id, loggedModel.info.model_id), "data-testid": "logged-model-link" }, `${loggedModel.info.name} (${loggedModel.info.model_id})`) : version.model_id],
      ["Source", h("span", { class: "mono" }, version.source)],
      ...prefect,
    ],
    "lineage",
  );
  const deployed = deploymentFacts(tags);
  const text = await mlmodelText(version, run);
  const userTags = Object.entries(tags).filter(([k]) => !k.startsWith("mlflowx.prefect.") && !k.startsWith("mlflowx.deployment."));

  root.append(
    h(
      "div",
      { class: "page-head" },
      h(
        "div",
        {},
        h("div", { class: "breadcrumbs" }, h("a", { href: href.models() }, "Registered models"), h("a", { href: href.model(name) }, name)),
        h("div", { class: "title-row" }, h("h1", { "data-testid": "version-title" }, `${name} · version ${version.version}`), statusBadge(version.status), stageBox),
      ),
    ),
    h(
      "div",
      { class: "grid-2" },
      h(
        "div",
        {},
        section(
          "About this version",
          facts([
            ["Registered", fmtTime(version.creation_timestamp)],
            ["Last modified", fmtTime(version.last_updated_timestamp)],
            ["Registered by", version.user_id],
            ["Status", version.status_message ? `${version.status} (${version.status_message})` : null],
          ], "version-facts"),
          h("h3", {}, "Stage"),
          transition,
        ),
        section("Lineage", lineage),
        section("Deployment", deployed.length ? facts(deployed, "deployment") : emptyState("Not deployed by a deploy task.")),
      ),
      h(
        "div",
        {},
        section("Description", descriptionEditor(version.description, (t) => updateModelVersion(name, version.version, t))),
        section("Aliases", aliasEditor(name, aliases, null, { defaultVersion: version.version })),
        section(
          "Load it",
          h("pre", { class: "snippet", "data-testid": "load-snippet" }, `import mlflowx as mlflow   # or: import mlflow\nmodel = mlflow.pyfunc.load_model("models:/${name}/${version.version}")`),
          h("p", { class: "muted" }, "Or by alias: ", h("span", { class: "mono" }, `models:/${name}@<alias>`), copyButton(`models:/${name}/${version.version}`, "Copy model URI")),
        ),
      ),
    ),
    section("Signature", text ? signatureTables(text) : emptyState("The model's MLmodel file could not be read.")),
    section(
      "Tags",
      kvTable(userTags, { testid: "version-tags", empty: "No tags.", onSet: (k, v) => setModelVersionTag(name, version.version, k, v).then(() => true), onDelete: (k) => deleteModelVersionTag(name, version.version, k).then(() => true) }),
    ),
  );
}
