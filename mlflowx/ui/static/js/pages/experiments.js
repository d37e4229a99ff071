// The experiments list: search, create, rename, delete and restore; each links to its runs.
import { createExperiment, deleteExperiment, renameExperiment, restoreExperiment, searchExperiments } from "../api.js";
import { debounce, emptyState, fmtAgo, fmtTime, h, href } from "../dom.js";
import { busy, replaceQuery } from "../router.js";
import { dataTable, sortRows } from "../components/table.js";
import { confirmAction, openForm } from "../components/modal.js";
import { attempt } from "../components/toast.js";

/** A plain word searches names; anything with an operator is the experiments DSL as typed. */
export function experimentFilter(text) {
  const t = text.trim();
  if (!t) return "";
  if (/(=|<|>|\bLIKE\b|\bILIKE\b|\bIN\b|\bIS\b)/i.test(t)) return t;
  return `name ILIKE '%${t.replaceAll("'", "\\'")}%'`;
}

export async function render(root, params, query) {
  const state = { search: query.get("search") || "", deleted: query.get("view") === "deleted", sort: { key: "last_update_time", desc: true } };
  let experiments = [];
  let closed = false; // the page was left: late (debounced) reloads do nothing

  const error = h("p", { class: "form-error", "data-testid": "experiments-error", role: "alert" });
  const search = h("input", {
    type: "search",
    class: "grow",
    placeholder: "Search experiments by name, or a filter: tags.team = 'a'",
    "aria-label": "Search experiments",
    "data-testid": "experiment-search",
    value: state.search,
    oninput: debounce(() => {
      state.search = search.value;
      reload();
    }, 250),
  });
  const viewToggle = h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Which experiments" },
    h("button", { type: "button", "aria-pressed": String(!state.deleted), onclick: () => setView(false) }, "Active"),
    h("button", { type: "button", "aria-pressed": String(state.deleted), "data-testid": "show-deleted", onclick: () => setView(true) }, "Deleted"),
  );

  const table = dataTable({
    testid: "experiments-table",
    rowKey: (e) => e.experiment_id,
    rowAttrs: (e) => ({ "data-experiment-id": e.experiment_id }),
    sort: state.sort,
    onSort: (key, desc) => {
      state.sort = { key, desc };
      table.setSort(state.sort);
      draw();
    },
    empty: "No experiments match.",
    columns: [
      {
        key: "name",
        label: "Name",
        sortable: true,
        render: (e) => h("a", { href: href.experiment(e.experiment_id), class: "experiment-link" }, e.name),
      },
      { key: "experiment_id", label: "ID", sortable: true, className: "mono" },
      { key: "artifact_location", label: "Artifact location", className: "mono muted location" },
      { key: "creation_time", label: "Created", sortable: true, render: (e) => h("span", { title: fmtTime(e.creation_time) }, fmtAgo(e.creation_time)) },
      { key: "last_update_time", label: "Last modified", sortable: true, render: (e) => h("span", { title: fmtTime(e.last_update_time) }, fmtAgo(e.last_update_time)) },
      {
        key: "tags",
        label: "Tags",
        render: (e) =>
          h("span", { class: "tag-list" }, (e.tags || []).filter((t) => !t.key.startsWith("mlflow.")).map((t) => h("span", { class: "badge" }, `${t.key}: ${t.value}`))),
      },
      { key: "actions", label: "", className: "actions", render: actions },
    ],
  });

  function actions(e) {
    if (state.deleted) {
      return h("button", { type: "button", class: "btn btn-small", "data-action": "restore", onclick: () => restore(e) }, "Restore");
    }
    return h(
      "span",
      { class: "row-actions" },
      h("button", { type: "button", class: "btn btn-small btn-quiet", "data-action": "rename", onclick: () => rename(e) }, "Rename"),
      e.experiment_id === "0" ? null : h("button", { type: "button", class: "btn btn-small btn-quiet", "data-action": "delete", onclick: () => remove(e) }, "Delete"),
    );
  }

  async function create() {
    const values = await openForm({
      title: "Create experiment",
      submit: "Create",
      fields: [
        { name: "name", label: "Name", required: true },
        { name: "artifact_location", label: "Artifact location (optional)", placeholder: "default: the server's artifact root" },
      ],
      validate: (v) => (v.name ? null : "A name is required"),
    });
    if (!values) return;
    const made = await attempt(() => createExperiment(values.name, values.artifact_location), `Created ${values.name}`);
    if (made) location.hash = href.experiment(made.experiment_id);
  }

  async function rename(e) {
    const values = await openForm({ title: `Rename ${e.name}`, submit: "Rename", fields: [{ name: "name", label: "New name", value: e.name, required: true }] });
    if (!values || values.name === e.name) return;
    if ((await attempt(() => renameExperiment(e.experiment_id, values.name), `Renamed to ${values.name}`)) !== undefined) reload();
  }

  async function remove(e) {
    if (!(await confirmAction(`Delete ${e.name}?`, "The experiment and its runs move to the deleted view, from where they can be restored."))) return;
    if ((await attempt(() => deleteExperiment(e.experiment_id), `Deleted ${e.name}`)) !== undefined) reload();
  }

  async function restore(e) {
    if ((await attempt(() => restoreExperiment(e.experiment_id), `Restored ${e.name}`)) !== undefined) reload();
  }

  function setView(deleted) {
    state.deleted = deleted;
    for (const [i, b] of [...viewToggle.children].entries()) b.setAttribute("aria-pressed", String(i === 1 ? deleted : !deleted));
    reload();
  }

  function draw() {
    const { key, desc } = state.sort;
    table.setRows(sortRows(experiments, (e) => (key === "name" ? e.name.toLowerCase() : e[key]), desc));
  }

  async function load() {
    if (closed) return;
    replaceQuery("/experiments", { search: state.search, view: state.deleted ? "deleted" : "" });
    const all = [];
    let token;
    try {
      do {
        const page = await searchExperiments({ filter: experimentFilter(state.search), viewType: state.deleted ? "DELETED_ONLY" : "ACTIVE_ONLY", pageToken: token });
        all.push(...(page.experiments || []));
        token = page.next_page_token;
      } while (token);
    } catch (err) {
      error.textContent = err.message;
      search.classList.add("invalid");
      return;
    }
    error.textContent = "";
    search.classList.remove("invalid");
    experiments = all;
    count.textContent = `${all.length} experiment${all.length === 1 ? "" : "s"}`;
    draw();
  }
  const reload = () => busy(load());
  const count = h("span", { class: "muted", "data-testid": "experiment-count" });

  root.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Experiments"),
      count,
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "btn btn-primary", "data-testid": "create-experiment", onclick: create }, "Create experiment"),
    ),
    h("div", { class: "toolbar" }, search, viewToggle),
    error,
    table.el,
  );
  await load();
  return () => {
    closed = true;
  };
}
