// Nested runs: the page's runs are the top level; their children (runs tagged
// mlflow.parentRunId) are fetched in one query per level and shown under a parent once expanded.
import { searchRuns } from "../../api.js";
import { runView } from "../../entities.js";

const quote = (s) => `'${String(s).replaceAll("'", "\\'")}'`;

export class RunTree {
  constructor(experimentIds) {
    this.experimentIds = experimentIds;
    this.children = new Map(); // parent id -> [run view]
    this.asked = new Set(); // ids whose children are known
    this.expanded = new Set();
    this.depth = new Map();
  }

  reset() {
    this.children.clear();
    this.asked.clear();
    this.depth.clear();
  }

  /** Learn which of ``runs`` have children: one search for all of them. */
  async load(runs, signal) {
    const ids = runs.map((r) => r.id).filter((id) => !this.asked.has(id));
    if (!ids.length) return;
    for (let i = 0; i < ids.length; i += 100) {
      const batch = ids.slice(i, i + 100);
      let token;
      do {
        const page = await searchRuns(
          {
            experimentIds: this.experimentIds,
            filter: `tags.mlflow.parentRunId IN (${batch.map(quote).join(", ")})`,
            orderBy: ["attributes.start_time DESC"],
            maxResults: 1000,
            pageToken: token,
          },
          signal,
        );
        for (const run of (page.runs || []).map(runView)) {
          if (!this.children.has(run.parentId)) this.children.set(run.parentId, []);
          this.children.get(run.parentId).push(run);
        }
        token = page.next_page_token;
      } while (token);
      for (const id of batch) this.asked.add(id);
    }
  }

  hasChildren(run) {
    return (this.children.get(run.id) || []).length > 0;
  }

  /** Expanding loads the grandchildren, so that the children show their own toggles. */
  async toggle(run, signal) {
    if (this.expanded.has(run.id)) {
      this.expanded.delete(run.id);
      return;
    }
    this.expanded.add(run.id);
    await this.load(this.children.get(run.id) || [], signal);
  }

  /** The rows to draw: each top-level run followed by its expanded descendants. */
  flatten(topLevel) {
    const rows = [];
    const walk = (run, depth, seen) => {
      if (seen.has(run.id)) return; // a cycle in hand-set tags must not hang the page
      seen.add(run.id);
      this.depth.set(run.id, depth);
      rows.push(run);
      if (this.expanded.has(run.id)) for (const child of this.children.get(run.id) || []) walk(child, depth + 1, seen);
    };
    for (const run of topLevel) walk(run, 0, new Set());
    return rows;
  }

  depthOf(run) {
    return this.depth.get(run.id) || 0;
  }
}
