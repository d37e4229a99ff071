// The wire's run/experiment shapes turned into what pages draw.

export const TAG = {
  runName: "mlflow.runName",
  parent: "mlflow.parentRunId",
  user: "mlflow.user",
  source: "mlflow.source.name",
  sourceType: "mlflow.source.type",
  gitCommit: "mlflow.source.git.commit",
  note: "mlflow.note.content",
  loggedModels: "mlflow.log-model.history",
};

const toObject = (list) => Object.fromEntries((list || []).map((kv) => [kv.key, kv.value]));

/** A run from the API with its params, metrics and tags as plain objects keyed by name. */
export function runView(run) {
  const info = run.info || {};
  const tags = toObject(run.data?.tags);
  return {
    id: info.run_id || info.run_uuid,
    name: info.run_name || tags[TAG.runName] || "",
    experimentId: info.experiment_id,
    status: info.status,
    start: info.start_time ? Number(info.start_time) : null,
    end: info.end_time ? Number(info.end_time) : null,
    user: info.user_id || tags[TAG.user] || "",
    artifactUri: info.artifact_uri,
    lifecycle: info.lifecycle_stage,
    params: toObject(run.data?.params),
    metrics: Object.fromEntries((run.data?.metrics || []).map((m) => [m.key, m.value])),
    metricPoints: Object.fromEntries((run.data?.metrics || []).map((m) => [m.key, m])),
    tags,
    parentId: tags[TAG.parent] || null,
    datasets: run.inputs?.dataset_inputs || [],
    modelInputs: run.inputs?.model_inputs || [],
    modelOutputs: run.outputs?.model_outputs || [],
    raw: run,
  };
}

/** Tags shown as data, not as the system's bookkeeping (``mlflow.*`` and ``mlflowx.*``). */
export const isSystemTag = (key) => key.startsWith("mlflow.") || key.startsWith("mlflowx.");

/** A column of the runs table in the search DSL's form: ``metrics.acc``, ``params.lr``, ``attributes.start_time``. */
export function columnKey(kind, name) {
  const quoted = /^[A-Za-z_][\w.]*$/.test(name) ? name : "`" + name.replaceAll("`", "``") + "`";
  return `${kind}.${quoted}`;
}

/** The value of a DSL column key for a run view. */
export function columnValue(run, key) {
  const dot = key.indexOf(".");
  const kind = key.slice(0, dot);
  let name = key.slice(dot + 1);
  if (name.startsWith("`")) name = name.slice(1, -1).replaceAll("``", "`");
  if (kind === "metrics") return run.metrics[name];
  if (kind === "params") return run.params[name];
  if (kind === "tags") return run.tags[name];
  const attrs = { start_time: run.start, end_time: run.end, status: run.status, run_name: run.name, user_id: run.user, run_id: run.id };
  return attrs[name];
}
