// Lineage recorded as tags: the Prefect flow run, task run and deployment that made a run or a
// model version (mlflowx.prefect.*), and where a version is deployed (mlflowx.deployment.*).
// Links go to the Prefect UI when the server knows its address (PREFECT_UI_URL).
import { h } from "../dom.js";

const P = "mlflowx.prefect.";
const D = "mlflowx.deployment.";

function link(base, path, id, label) {
  if (!id) return null;
  const text = label || id;
  return base ? h("a", { href: `${base}${path}${encodeURIComponent(id)}`, target: "_blank", rel: "noopener", "data-testid": "prefect-link" }, text) : h("span", { class: "mono" }, text);
}

/** [[label, node]] for the Prefect side of a run's or version's tags (empty when none). */
export function prefectFacts(tags, prefectUiUrl) {
  const base = prefectUiUrl ? prefectUiUrl.replace(/\/+$/, "") : null;
  const flowRun = tags[`${P}flow_run_id`];
  const facts = [];
  if (flowRun) {
    const name = tags[`${P}flow_run_name`];
    const flow = tags[`${P}flow_name`];
    const label = [flow, name].filter(Boolean).join(" / ") || flowRun;
    const recorded = !base && tags[`${P}flow_run_url`];
    facts.push([
      "Prefect flow run",
      recorded
        ? h("a", { href: recorded, target: "_blank", rel: "noopener", "data-testid": "prefect-link" }, label)
        : h("span", {}, link(base, "/runs/flow-run/", flowRun, label), base ? null : h("span", { class: "muted" }, ` (${flowRun})`)),
    ]);
  }
  const taskRun = tags[`${P}task_run_id`];
  if (taskRun) facts.push(["Prefect task run", link(base, "/runs/task-run/", taskRun, tags[`${P}task_run_name`] || tags[`${P}task_name`] || taskRun)]);
  const deployment = tags[`${P}deployment_id`];
  if (deployment) facts.push(["Prefect deployment", link(base, "/deployments/deployment/", deployment, tags[`${P}deployment_name`] || deployment)]);
  if (tags[`${P}work_pool`]) facts.push(["Work pool", tags[`${P}work_pool`]]);
  if (tags[`${P}state`]) facts.push(["Prefect state", tags[`${P}state`]]);
  return facts;
}

/** [[label, node]] for where a model version runs (the deploy task's tags). */
export function deploymentFacts(tags) {
  if (!tags[`${D}name`] && !tags[`${D}url`]) return [];
  const url = tags[`${D}url`];
  return [
    ["Deployment", tags[`${D}name`]],
    ["Target", tags[`${D}target`]],
    ["Endpoint", url ? h("a", { href: url, target: "_blank", rel: "noopener", "data-testid": "deployment-url" }, url) : null],
    ["Container", tags[`${D}container_id`] ? h("span", { class: "mono", "data-testid": "deployment-container" }, tags[`${D}container_id`]) : null],
    ["Image", tags[`${D}image`] ? h("span", { class: "mono" }, tags[`${D}image`]) : null],
    ["Process", tags[`${D}pid`] ? `pid ${tags[`${D}pid`]} on ${tags[`${D}host`] || "?"}` : null],
  ].filter(([, v]) => v);
}
