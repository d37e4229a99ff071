// The run page's data sections: params, metrics, tags (editable), logged models and datasets.
import { deleteRunTag, getLoggedModel, setRunTag } from "../../api.js";
import { isSystemTag } from "../../entities.js";
import { emptyState, fmtNumber, fmtTime, h, href, section } from "../../dom.js";
import { kvTable } from "../../components/keyvalue.js";

export function paramsSection(run) {
  return section(`Parameters (${Object.keys(run.params).length})`, kvTable(Object.entries(run.params), { testid: "params-table", empty: "No parameters.", filterable: Object.keys(run.params).length > 10 }));
}

export function metricsSection(run, onChart) {
  const points = Object.values(run.metricPoints).sort((a, b) => a.key.localeCompare(b.key));
  const table = h(
    "table",
    { class: "data-table", "data-testid": "metrics-table" },
    h("thead", {}, h("tr", {}, h("th", {}, "Metric"), h("th", { class: "num" }, "Latest value"), h("th", { class: "num" }, "Step"), h("th", {}, "Logged"))),
    h(
      "tbody",
      {},
      points.length
        ? points.map((m) =>
            h(
              "tr",
              { "data-key": m.key },
              h("td", {}, h("a", { href: "#", onclick: (e) => (e.preventDefault(), onChart(m.key)) }, m.key)),
              h("td", { class: "num" }, fmtNumber(m.value)),
              h("td", { class: "num" }, String(m.step ?? 0)),
              h("td", {}, fmtTime(m.timestamp)),
            ),
          )
        : h("tr", { class: "empty-row" }, h("td", { colspan: 4 }, "No metrics.")),
    ),
  );
  return section(`Metrics (${points.length})`, h("div", { class: "table-scroll" }, table));
}

export function tagsSection(run) {
  const user = Object.entries(run.tags).filter(([k]) => !isSystemTag(k));
  const system = Object.entries(run.tags).filter(([k]) => isSystemTag(k));
  return section(
    "Tags",
    kvTable(user, {
      testid: "tags-table",
      empty: "No tags.",
      onSet: (key, value) => setRunTag(run.id, key, value).then(() => true),
      onDelete: (key) => deleteRunTag(run.id, key).then(() => true),
    }),
    system.length ? h("details", { class: "system-tags" }, h("summary", {}, `System tags (${system.length})`), kvTable(system, { testid: "system-tags-table" })) : null,
  );
}

/** The models this run logged: MLflow 3 logged models (outputs) and the log-model history tag. */
export async function modelsSection(run) {
  const ids = [...new Set(run.modelOutputs.map((o) => o.model_id))];
  const models = (await Promise.all(ids.map((id) => getLoggedModel(id).catch(() => null)))).filter(Boolean);
  let history = [];
  try {
    history = JSON.parse(run.tags["mlflow.log-model.history"] || "[]");
  } catch {}
  const fromHistory = history.filter((e) => !ids.includes(e.model_id));
  if (!models.length && !fromHistory.length) return section("Logged models", emptyState("No models logged."));
  const rows = [
    ...models.map((m) => ({ name: m.info.name, id: m.info.model_id, flavors: m.info.tags?.find((t) => t.key === "mlflow.modelFlavor")?.value, created: m.info.creation_timestamp_ms, status: m.info.status, path: null })),
    ...fromHistory.map((e) => ({ name: e.artifact_path, id: e.model_id || "", flavors: Object.keys(e.flavors || {}).join(", "), created: Date.parse(e.utc_time_created + "Z") || null, status: "", path: e.artifact_path })),
  ];
  return section(
    `Logged models (${rows.length})`,
    h(
      "table",
      { class: "data-table", "data-testid": "logged-models" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Model ID"), h("th", {}, "Flavors"), h("th", {}, "Created"), h("th", {}, ""))),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            { "data-model-id": r.id },
            h("td", {}, r.name),
            h("td", { class: "mono" }, r.id ? h("a", { href: href.loggedModel(run.experimentId, r.id) }, r.id) : ""),
            h("td", {}, r.flavors || ""),
            h("td", {}, fmtTime(r.created)),
            h("td", {}, r.path ? h("a", { href: href.run(run.experimentId, run.id, `${r.path}/MLmodel`) }, "Files") : r.id ? h("a", { href: href.loggedModel(run.experimentId, r.id) }, "Files") : ""),
          ),
        ),
      ),
    ),
  );
}

export function datasetsSection(run) {
  if (!run.datasets.length) return section("Datasets", emptyState("No datasets logged."));
  return section(
    `Datasets (${run.datasets.length})`,
    h(
      "div",
      { class: "datasets", "data-testid": "datasets" },
      run.datasets.map((input) => {
        const d = input.dataset || {};
        const context = (input.tags || []).find((t) => t.key === "mlflow.data.context")?.value;
        let schema = null;
        try {
          schema = d.schema ? JSON.parse(d.schema) : null;
        } catch {}
        const columns = schema?.mlflow_colspec || schema?.mlflow_tensorspec?.features || null;
        return h(
          "details",
          { class: "dataset" },
          h("summary", {}, h("strong", {}, d.name), context ? h("span", { class: "badge" }, context) : null, h("span", { class: "muted mono" }, ` ${d.digest || ""}`)),
          h(
            "dl",
            { class: "facts" },
            [
              ["Source type", d.source_type],
              ["Source", d.source],
              ["Profile", d.profile],
            ]
              .filter(([, v]) => v)
              .map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v)]),
          ),
          Array.isArray(columns) ? h("p", { class: "muted" }, `Columns: ${columns.map((c) => `${c.name} (${c.type})`).join(", ")}`) : null,
        );
      }),
    ),
  );
}
