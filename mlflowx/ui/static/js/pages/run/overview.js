// The run page's overview: its facts, lineage, description, and its parent and children.
import { searchRuns } from "../../api.js";
import { TAG, runView } from "../../entities.js";
import { copyButton, fmtDuration, fmtTime, h, href, section, statusBadge } from "../../dom.js";
import { prefectFacts } from "../../components/lineage.js";

function facts(pairs) {
  return h("dl", { class: "facts", "data-testid": "run-facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", { "data-fact": k }, v)]));
}

function sourceLink(run) {
  const name = run.tags[TAG.source];
  if (!name) return null;
  const type = run.tags[TAG.sourceType];
  return h("span", { class: "mono" }, name, type ? h("span", { class: "muted" }, ` (${type.toLowerCase()})`) : null);
}

export async function overview(run, experiment, config) {
  const children = await searchRuns({ experimentIds: [run.experimentId], filter: `tags.mlflow.parentRunId = '${run.id}'`, orderBy: ["attributes.start_time ASC"], maxResults: 1000 });
  const kids = (children.runs || []).map(runView);
  const commit = run.tags[TAG.gitCommit];
  const list = facts([
    ["Run ID", h("span", { class: "mono" }, run.id, copyButton(run.id, "Copy run ID"))],
    ["Status", statusBadge(run.status)],
    ["Experiment", h("a", { href: href.experiment(run.experimentId) }, experiment.name)],
    ["Started", fmtTime(run.start)],
    ["Ended", fmtTime(run.end)],
    ["Duration", fmtDuration(run.start, run.end)],
    ["User", run.user],
    ["Source", sourceLink(run)],
    ["Git commit", commit ? h("span", { class: "mono", title: commit }, commit.slice(0, 12), copyButton(commit, "Copy commit")) : null],
    ["Entry point", run.tags["mlflow.project.entryPoint"]],
    ["Lifecycle", run.lifecycle === "deleted" ? h("span", { class: "badge status-failed" }, "deleted") : null],
    ["Artifact URI", h("span", { class: "mono" }, run.artifactUri)],
    ["Parent run", run.parentId ? h("a", { href: href.run(run.experimentId, run.parentId), "data-testid": "parent-link" }, run.parentId) : null],
    ...prefectFacts(run.tags, config.prefect_ui_url),
  ]);
  const description = run.tags[TAG.note];
  return [
    section("About this run", list),
    description ? section("Description", h("div", { class: "description", "data-testid": "run-description" }, description)) : null,
    kids.length
      ? section(
          `Child runs (${kids.length})`,
          h("ul", { class: "child-runs", "data-testid": "child-runs" }, kids.map((k) => h("li", {}, h("a", { href: href.run(k.experimentId, k.id), "data-run-id": k.id }, k.name || k.id), " ", statusBadge(k.status)))),
        )
      : null,
  ];
}
