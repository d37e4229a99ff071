// The REST API as the pages use it: one fetch wrapper, typed errors, and the calls pages share.
// Under `mlflowx server --static-prefix /p` the shell says so: every URL starts with it.
const PREFIX = document.documentElement.dataset.prefix || "";
const BASE = `${PREFIX}/ajax-api/2.0/mlflow`;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(key, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function call(method, url, body, signal) {
  const init = { method, headers: { Accept: "application/json" }, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK_ERROR", `The server did not answer (${err.message})`);
  }
  const text = await response.text();
  let payload = {};
  try {
    payload = text ? JSON.parse(text) : {};
  } catch {
    payload = { message: text };
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      payload.error_code || `HTTP_${response.status}`,
      payload.message || response.statusText,
    );
  }
  return payload;
}

export const api = {
  get: (path, params, signal) => call("GET", BASE + path + query(params), undefined, signal),
  post: (path, body, signal) => call("POST", BASE + path, body || {}, signal),
  patch: (path, body) => call("PATCH", BASE + path, body || {}),
  delete: (path, body) => call("DELETE", BASE + path, body || {}),
  raw: (url, params) => call("GET", url + query(params)),
};

// ---------------------------------------------------------------- experiments
export async function searchExperiments({ filter, viewType = "ACTIVE_ONLY", maxResults = 1000, orderBy, pageToken } = {}) {
  return api.post("/experiments/search", {
    filter: filter || undefined,
    view_type: viewType,
    max_results: maxResults,
    order_by: orderBy || ["last_update_time DESC"],
    page_token: pageToken || undefined,
  });
}
export const getExperiment = (id) => api.get("/experiments/get", { experiment_id: id }).then((r) => r.experiment);
export const createExperiment = (name, artifactLocation) =>
  api.post("/experiments/create", { name, artifact_location: artifactLocation || undefined });
export const renameExperiment = (id, name) => api.post("/experiments/update", { experiment_id: id, new_name: name });
export const deleteExperiment = (id) => api.post("/experiments/delete", { experiment_id: id });
export const restoreExperiment = (id) => api.post("/experiments/restore", { experiment_id: id });

// ---------------------------------------------------------------- runs
export function searchRuns({ experimentIds, filter, orderBy, maxResults = 100, pageToken, viewType = "ACTIVE_ONLY" }, signal) {
  return api.post(
    "/runs/search",
    {
      experiment_ids: experimentIds,
      filter: filter || undefined,
      order_by: orderBy && orderBy.length ? orderBy : undefined,
      max_results: maxResults,
      page_token: pageToken || undefined,
      run_view_type: viewType,
    },
    signal,
  );
}
export const getRun = (id) => api.get("/runs/get", { run_id: id }).then((r) => r.run);
export const deleteRun = (id) => api.post("/runs/delete", { run_id: id });
export const restoreRun = (id) => api.post("/runs/restore", { run_id: id });
export const setRunTag = (id, key, value) => api.post("/runs/set-tag", { run_id: id, key, value });
export const deleteRunTag = (id, key) => api.post("/runs/delete-tag", { run_id: id, key });
export const renameRun = (id, name) => api.post("/runs/update", { run_id: id, run_name: name });

/** Every point of one metric of one run (the server pages it; we follow the tokens). */
export async function metricHistory(runId, key) {
  const points = [];
  let token;
  do {
    const page = await api.get("/metrics/get-history", { run_id: runId, metric_key: key, max_results: 25000, page_token: token });
    points.push(...(page.metrics || []));
    token = page.next_page_token;
  } while (token);
  return points;
}

/** One metric of up to 100 runs, downsampled by the server to about ``maxResults`` points a run. */
export async function metricHistories(runIds, key, maxResults = 1000) {
  const page = await api.get("/metrics/get-history-bulk-interval", { run_ids: runIds, metric_key: key, max_results: maxResults });
  const byRun = new Map(runIds.map((id) => [id, []]));
  for (const m of page.metrics || []) byRun.get(m.run_id)?.push(m);
  return byRun;
}

// ---------------------------------------------------------------- artifacts
export const listArtifacts = (runId, path) => api.get("/artifacts/list", { run_id: runId, path: path || undefined });
export const artifactUrl = (runId, path) => `${PREFIX}/get-artifact${query({ run_uuid: runId, path })}`;

/** Byte-range text of any artifact URL: ``{text, truncated, total}``. */
export async function rangeText(url, limit = 1 << 20) {
  const response = await fetch(url, { headers: { Range: `bytes=0-${limit - 1}` } });
  if (!response.ok && response.status !== 206) {
    let message = response.statusText;
    try {
      message = (await response.json()).message || message;
    } catch {}
    throw new ApiError(response.status, "ARTIFACT_ERROR", message);
  }
  const total = Number((response.headers.get("content-range") || "").split("/")[1]) || null;
  return { text: await response.text(), truncated: response.status === 206 && total !== null && total > limit, total };
}

/** Where a browser reads a run's artifacts, for the artifact browser. */
export const runArtifacts = (runId) => ({
  list: (path) => listArtifacts(runId, path).then((r) => r.files || []),
  url: (path) => artifactUrl(runId, path),
});

// ---------------------------------------------------------------- logged models
export const getLoggedModel = (id) => api.get(`/logged-models/${encodeURIComponent(id)}`).then((r) => r.model);

/** Where a browser reads a logged model's files (its own artifact location). */
export const loggedModelArtifacts = (modelId) => {
  const base = `${BASE}/logged-models/${encodeURIComponent(modelId)}/artifacts`;
  return {
    list: (path) => api.raw(`${base}/directories`, { artifact_directory_path: path || undefined }).then((r) => r.files || []),
    url: (path) => `${base}/files${query({ artifact_file_path: path })}`,
  };
};

// ---------------------------------------------------------------- registry
export const searchRegisteredModels = ({ filter, maxResults = 100, pageToken, orderBy } = {}) =>
  api.get("/registered-models/search", { filter: filter || undefined, max_results: maxResults, page_token: pageToken, order_by: orderBy });
export const getRegisteredModel = (name) => api.get("/registered-models/get", { name }).then((r) => r.registered_model);
export const searchModelVersions = ({ filter, maxResults = 200, pageToken, orderBy } = {}) =>
  api.get("/model-versions/search", { filter: filter || undefined, max_results: maxResults, page_token: pageToken, order_by: orderBy });
export const getModelVersion = (name, version) => api.get("/model-versions/get", { name, version }).then((r) => r.model_version);
export const createRegisteredModel = (name, description) => api.post("/registered-models/create", { name, description: description || undefined });
export const renameRegisteredModel = (name, newName) => api.post("/registered-models/rename", { name, new_name: newName });
export const deleteRegisteredModel = (name) => api.delete("/registered-models/delete", { name });
export const updateRegisteredModel = (name, description) => api.patch("/registered-models/update", { name, description });
export const setRegisteredModelTag = (name, key, value) => api.post("/registered-models/set-tag", { name, key, value });
export const deleteRegisteredModelTag = (name, key) => api.delete("/registered-models/delete-tag", { name, key });
export const setModelAlias = (name, alias, version) => api.post("/registered-models/alias", { name, alias, version: String(version) });
export const deleteModelAlias = (name, alias) => api.delete("/registered-models/alias", { name, alias });
export const updateModelVersion = (name, version, description) => api.patch("/model-versions/update", { name, version: String(version), description });
export const transitionStage = (name, version, stage, archiveExisting) =>
  api.post("/model-versions/transition-stage", { name, version: String(version), stage, archive_existing_versions: Boolean(archiveExisting) });
export const setModelVersionTag = (name, version, key, value) => api.post("/model-versions/set-tag", { name, version: String(version), key, value });
export const deleteModelVersionTag = (name, version, key) => api.delete("/model-versions/delete-tag", { name, version: String(version), key });
export const deleteModelVersion = (name, version) => api.delete("/model-versions/delete", { name, version: String(version) });

// ---------------------------------------------------------------- the server itself
let configPromise;
export function uiConfig() {
  configPromise ??= api.raw(`${PREFIX}/ajax-api/2.0/mlflowx/ui-config`);
  return configPromise;
}
