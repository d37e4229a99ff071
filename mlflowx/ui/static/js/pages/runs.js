// The runs of one experiment (or several): a server-side paged and sorted table, the search DSL
// with errors shown at their token, quick filters, a remembered column choice, nested runs as a
// tree, and selection to compare, delete or restore.
import { deleteRun, getExperiment, restoreRun, searchRuns } from "../api.js";
import { runView } from "../entities.js";
import { h, href } from "../dom.js";
import { busy, replaceQuery } from "../router.js";
import { dataTable } from "../components/table.js";
import { confirmAction } from "../components/modal.js";
import { toast } from "../components/toast.js";
import { ColumnChoice, columnChooser, discoverKeys, nameColumn } from "./runs/columns.js";
import { STATUSES, TIME_WINDOWS, composeFilter, errorSpan } from "./runs/filters.js";
import { RunTree } from "./runs/tree.js";

const PAGE_SIZES = [25, 50, 100, 250, 1000];
const MAX_COMPARE = 100;

/** The experiments a route names: "#/experiments/1", or MLflow's "#/compare-experiments/s?experiments=[...]". */
export function experimentIdsOf(params, query) {
  if (params.experimentId) return [params.experimentId];
  const listed = query.get("experiments");
  if (listed) {
    try {
      const ids = JSON.parse(listed);
      if (Array.isArray(ids)) return ids.map(String);
    } catch {
      return listed.split(",").filter(Boolean);
    }
  }
  return String(params.experimentIds || "").split(",").filter((id) => id && id !== "s");
}

function parseOrder(text) {
  const m = /^(.*?)\s+(ASC|DESC)$/i.exec((text || "").trim());
  if (!m) return { key: "attributes.start_time", desc: true };
  return { key: m[1], desc: m[2].toUpperCase() === "DESC" };
}

export async function render(root, params, query) {
  const experimentIds = experimentIdsOf(params, query);
  if (!experimentIds.length) throw new Error("No experiment named in the link.");
  const controller = new AbortController();
  const signal = controller.signal;
  const experiments = await Promise.all(experimentIds.map(getExperiment));
  const routePath = params.experimentId ? `/experiments/${encodeURIComponent(params.experimentId)}` : location.hash.slice(1).split("?")[0];

  const state = {
    dsl: query.get("filter") || "",
    status: query.get("status") || "",
    user: query.get("user") || "",
    time: query.get("time") || "",
    order: parseOrder(query.get("order")),
    deleted: query.get("view") === "deleted",
    flat: query.get("flat") === "1",
    size: PAGE_SIZES.includes(Number(query.get("size"))) ? Number(query.get("size")) : 100,
    tokens: [undefined], // the token of each page seen; the last one is the current page
    next: null,
  };
  let runs = [];
  const choice = new ColumnChoice(experimentIds.join(","));
  const tree = new RunTree(experimentIds);
  const selected = new Set();
  const experimentOf = (run) => run.experimentId || experimentIds[0];

  // ---------------------------------------------------------------- header
  const title = experiments.length === 1 ? experiments[0].name : `${experiments.length} experiments`;
  const head = h(
    "div",
    { class: "page-head" },
    h("div", {}, h("div", { class: "breadcrumbs" }, h("a", { href: href.experiments() }, "Experiments")), h("h1", { "data-testid": "experiment-name" }, title)),
    h("span", { class: "spacer" }),
    experiments.length === 1
      ? h("dl", { class: "facts compact" }, h("dt", {}, "ID"), h("dd", { class: "mono" }, experiments[0].experiment_id), h("dt", {}, "Artifacts"), h("dd", { class: "mono" }, experiments[0].artifact_location || ""))
      : h("span", { class: "muted" }, experiments.map((e) => e.name).join(", ")),
  );
  if (experiments.some((e) => e.lifecycle_stage === "deleted")) head.append(h("span", { class: "badge status-failed" }, "deleted experiment"));

  // ---------------------------------------------------------------- filter bar
  const dslInput = h("input", {
    type: "search",
    class: "grow mono",
    value: state.dsl,
    placeholder: "metrics.rmse < 1 and params.model = 'tree' and tags.team LIKE 'a%'",
    "aria-label": "Search runs (MLflow's filter syntax)",
    "data-testid": "search-filter",
    spellcheck: "false",
    onkeydown: (e) => e.key === "Enter" && applyDsl(),
  });
  const dslError = h("div", { class: "search-error", "data-testid": "search-error", role: "alert", hidden: true });
  const statusSelect = h(
    "select",
    { "aria-label": "Status", "data-testid": "status-filter", onchange: () => ((state.status = statusSelect.value), restart()) },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: state.status === s }, s.charAt(0) + s.slice(1).toLowerCase())),
  );
  const userInput = h("input", { type: "search", value: state.user, placeholder: "User", "aria-label": "User", "data-testid": "user-filter", list: "runs-users", size: 12, onchange: () => ((state.user = userInput.value.trim()), restart()) });
  const users = h("datalist", { id: "runs-users" });
  const timeSelect = h(
    "select",
    { "aria-label": "Start time", "data-testid": "time-filter", onchange: () => ((state.time = timeSelect.value), restart()) },
    TIME_WINDOWS.map(([v, label]) => h("option", { value: v, selected: state.time === v }, label)),
  );
  const shown = h("div", { class: "effective-filter muted mono", "data-testid": "effective-filter" });
  const viewToggle = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Which runs" },
    h("button", { type: "button", "aria-pressed": String(!state.deleted), onclick: () => setDeleted(false) }, "Active"),
    h("button", { type: "button", "aria-pressed": String(state.deleted), "data-testid": "show-deleted-runs", onclick: () => setDeleted(true) }, "Deleted"),
  );
  const treeToggle = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Nesting" },
    h("button", { type: "button", "aria-pressed": String(!state.flat), "data-testid": "tree-view", onclick: () => setFlat(false) }, "Tree"),
    h("button", { type: "button", "aria-pressed": String(state.flat), "data-testid": "flat-view", onclick: () => setFlat(true) }, "Flat"),
  );

  // ---------------------------------------------------------------- selection bar
  const selectionCount = h("span", { "data-testid": "selection-count" });
  const compareButton = h("button", { type: "button", class: "btn btn-primary", "data-testid": "compare-selected", onclick: () => (location.hash = href.compare([...selected])) }, "Compare");
  const deleteButton = h("button", { type: "button", class: "btn", "data-testid": "delete-selected", onclick: () => removeSelected() }, state.deleted ? "Restore" : "Delete");
  const selectionBar = h("div", { class: "selection-bar", hidden: true }, selectionCount, compareButton, deleteButton, h("button", { type: "button", class: "btn btn-quiet", onclick: () => (selected.clear(), table.setRows(rows()), updateSelection()) }, "Clear"));

  // ---------------------------------------------------------------- table and pager
  const columns = () => [nameColumn(experimentOf), ...choice.columns()];
  const table = dataTable({
    testid: "runs-table",
    columns: columns(),
    rowKey: (r) => r.id,
    rowAttrs: (r) => ({ "data-run-id": r.id, "data-depth": String(tree.depthOf(r)) }),
    sort: state.order,
    onSort: (key, desc) => {
      state.order = { key, desc };
      table.setSort(state.order);
      restart();
    },
    selectable: true,
    selected,
    onSelect: updateSelection,
    tree: state.flat ? null : treeOptions(),
    empty: "No runs match.",
  });
  const range = h("span", { "data-testid": "page-range" });
  const prev = h("button", { type: "button", class: "btn btn-small", "data-testid": "prev-page", onclick: () => page(-1) }, "‹ Previous");
  const next = h("button", { type: "button", class: "btn btn-small", "data-testid": "next-page", onclick: () => page(1) }, "Next ›");
  const sizeSelect = h(
    "select",
    { "aria-label": "Runs per page", "data-testid": "page-size", onchange: () => ((state.size = Number(sizeSelect.value)), restart()) },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.size }, `${n} per page`)),
  );
  const pager = h("div", { class: "pager" }, sizeSelect, range, prev, next);
  const refresh = h("button", { type: "button", class: "btn", title: "Reload", "aria-label": "Reload", "data-testid": "refresh", onclick: () => reload() }, "↻");

  root.append(
    head,
    h(
      "div",
      { class: "card filters" },
      h("div", { class: "toolbar" }, dslInput, h("button", { type: "button", class: "btn btn-primary", "data-testid": "search-button", onclick: applyDsl }, "Search"), h("button", { type: "button", class: "btn btn-quiet", onclick: () => ((dslInput.value = ""), applyDsl()) }, "Clear")),
      dslError,
      h("div", { class: "toolbar" }, statusSelect, userInput, users, timeSelect, treeToggle, viewToggle, h("span", { class: "spacer" }), columnChooser(choice, () => table.setColumns(columns()), signal), refresh),
      shown,
    ),
    selectionBar,
    table.el,
    pager,
  );

  // ---------------------------------------------------------------- behaviour
  function rows() {
    return state.flat ? runs : tree.flatten(runs);
  }

  function filterString() {
    return composeFilter({ ...state, topLevel: !state.flat });
  }

  function saveUrl() {
    const order = `${state.order.key} ${state.order.desc ? "DESC" : "ASC"}`;
    replaceQuery(routePath, {
      ...(params.experimentId ? {} : { experiments: query.get("experiments") }),
      filter: state.dsl,
      status: state.status,
      user: state.user,
      time: state.time,
      order: order === "attributes.start_time DESC" ? "" : order,
      view: state.deleted ? "deleted" : "",
      flat: state.flat ? "1" : "",
      size: state.size === 100 ? "" : state.size,
    });
  }

  function showError(err) {
    const span = errorSpan(err.message, state.dsl);
    dslInput.classList.add("invalid");
    dslInput.setAttribute("aria-invalid", "true");
    const parts = [h("div", { class: "search-error-message" }, err.message)];
    if (span) {
      const text = state.dsl.trim();
      parts.unshift(
        h(
          "div",
          { class: "search-error-mirror mono", "aria-hidden": "true" },
          text.slice(0, span.start),
          h("mark", { "data-testid": "search-error-token" }, text.slice(span.start, span.end)),
          text.slice(span.end),
        ),
      );
    }
    dslError.replaceChildren(...parts);
    dslError.hidden = false;
  }

  function clearError() {
    dslInput.classList.remove("invalid");
    dslInput.removeAttribute("aria-invalid");
    dslError.hidden = true;
  }

  let current = null; // the load under way: a newer one aborts it

  async function load() {
    current?.abort();
    current = new AbortController();
    const mine = AbortSignal.any([signal, current.signal]);
    try {
      await loadPage(mine);
    } catch (err) {
      if (err.name !== "AbortError") throw err;
    }
  }

  async function loadPage(signal) {
    const filter = filterString();
    shown.textContent = filter ? `filter: ${filter}` : "";
    saveUrl();
    let result;
    try {
      result = await searchRuns(
        {
          experimentIds,
          filter,
          orderBy: [`${state.order.key} ${state.order.desc ? "DESC" : "ASC"}`],
          maxResults: state.size,
          pageToken: state.tokens.at(-1),
          viewType: state.deleted ? "DELETED_ONLY" : "ACTIVE_ONLY",
        },
        signal,
      );
    } catch (err) {
      if (err.name === "AbortError") return;
      if (err.status === 400) {
        showError(err);
        return; // the runs shown stay as they were
      }
      throw err;
    }
    clearError();
    runs = (result.runs || []).map(runView);
    state.next = result.next_page_token || null;
    tree.reset();
    choice.learn(discoverKeys(runs));
    users.replaceChildren(...[...new Set(runs.map((r) => r.user).filter(Boolean))].sort().map((u) => h("option", { value: u })));
    table.setColumns(columns(), rows()); // the rows show before their children are known
    const first = (state.tokens.length - 1) * state.size;
    range.textContent = runs.length ? `Showing ${first + 1}–${first + runs.length}` : "No runs";
    prev.disabled = state.tokens.length <= 1;
    next.disabled = !state.next;
    updateSelection();
    if (!state.flat && runs.length) {
      await tree.load(runs, signal); // one query for the children of the whole page
      const shown = choice.visible().length;
      choice.learn(discoverKeys([...tree.children.values()].flat()));
      if (choice.visible().length !== shown) table.setColumns(columns(), rows());
      else table.setRows(rows());
    }
  }

  function reload() {
    return busy(load()).catch((err) => toast(err.message, "error", 8000));
  }

  function restart() {
    state.tokens = [undefined];
    return reload();
  }

  function applyDsl() {
    state.dsl = dslInput.value.trim();
    return restart();
  }

  function page(step) {
    if (step > 0 && state.next) state.tokens.push(state.next);
    else if (step < 0 && state.tokens.length > 1) state.tokens.pop();
    else return;
    reload();
  }

  function setDeleted(deleted) {
    state.deleted = deleted;
    selected.clear();
    deleteButton.textContent = deleted ? "Restore" : "Delete";
    for (const [i, b] of [...viewToggle.children].entries()) b.setAttribute("aria-pressed", String(i === 1 ? deleted : !deleted));
    restart();
  }

  function setFlat(flat) {
    state.flat = flat;
    for (const [i, b] of [...treeToggle.children].entries()) b.setAttribute("aria-pressed", String(i === 1 ? flat : !flat));
    table.setTree(flat ? null : treeOptions());
    restart();
  }

  function treeOptions() {
    return {
      depth: (r) => tree.depthOf(r),
      hasChildren: (r) => tree.hasChildren(r),
      expanded: (r) => tree.expanded.has(r.id),
      onToggle: async (r) => {
        await busy(tree.toggle(r, signal));
        table.setRows(rows());
      },
    };
  }

  function updateSelection() {
    const n = selected.size;
    selectionBar.hidden = n === 0;
    selectionCount.textContent = `${n} selected`;
    compareButton.disabled = n < 2 || n > MAX_COMPARE;
    compareButton.title = n > MAX_COMPARE ? `Compare takes at most ${MAX_COMPARE} runs` : n < 2 ? "Select at least 2 runs" : "";
  }

  async function removeSelected() {
    const ids = [...selected];
    const verb = state.deleted ? "Restore" : "Delete";
    if (!state.deleted && !(await confirmAction(`Delete ${ids.length} run${ids.length === 1 ? "" : "s"}?`, "Deleted runs can be restored from the Deleted view until they are purged."))) return;
    const action = state.deleted ? restoreRun : deleteRun;
    const results = await busy(Promise.allSettled(ids.map((id) => action(id))));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length) toast(`${verb} failed for ${failed.length} run(s): ${failed[0].reason.message}`, "error", 8000);
    else toast(`${verb}d ${ids.length} run${ids.length === 1 ? "" : "s"}`, "success");
    selected.clear();
    await reload();
  }

  await load();
  return () => controller.abort();
}
