// Registered models: search, page, create; each links to its page.
import { createRegisteredModel, searchRegisteredModels } from "../api.js";
import { debounce, fmtAgo, fmtTime, h, href } from "../dom.js";
import { busy, replaceQuery } from "../router.js";
import { dataTable } from "../components/table.js";
import { openForm } from "../components/modal.js";
import { attempt } from "../components/toast.js";
import { aliasBadges, quoteName, stageBadge } from "./registry/common.js";

const PAGE = 100;

export async function render(root, params, query) {
  const state = { search: query.get("search") || "", tokens: [undefined], next: null };
  let closed = false; // the page was left: late (debounced) reloads do nothing
  const error = h("p", { class: "form-error", role: "alert" });
  const search = h("input", {
    type: "search",
    class: "grow",
    value: state.search,
    placeholder: "Search models by name",
    "aria-label": "Search registered models",
    "data-testid": "model-search",
    oninput: debounce(() => ((state.search = search.value.trim()), (state.tokens = [undefined]), busy(load())), 250),
  });
  const table = dataTable({
    testid: "models-table",
    rowKey: (m) => m.name,
    rowAttrs: (m) => ({ "data-model": m.name }),
    empty: "No registered models yet. Register one with mlflow.register_model(...) or the Create button.",
    columns: [
      { key: "name", label: "Name", render: (m) => h("a", { href: href.model(m.name), class: "model-link" }, m.name) },
      { key: "latest", label: "Latest version", render: (m) => latest(m) },
      { key: "aliases", label: "Aliases", render: (m) => h("span", {}, (m.aliases || []).map((a) => h("a", { href: href.version(m.name, a.version), class: "badge alias", "data-alias": a.alias }, `@${a.alias}: v${a.version}`))) },
      { key: "stages", label: "Stages", render: (m) => h("span", { class: "stage-list" }, (m.latest_versions || []).filter((v) => v.current_stage && v.current_stage !== "None").map((v) => [stageBadge(v.current_stage), ` v${v.version} `])) },
      { key: "description", label: "Description", className: "desc", render: (m) => m.description || "" },
      { key: "tags", label: "Tags", render: (m) => h("span", {}, (m.tags || []).map((t) => h("span", { class: "badge" }, `${t.key}: ${t.value}`))) },
      { key: "updated", label: "Last modified", render: (m) => h("span", { title: fmtTime(m.last_updated_timestamp) }, fmtAgo(m.last_updated_timestamp)) },
    ],
  });
  function latest(m) {
    const versions = (m.latest_versions || []).map((v) => Number(v.version));
    if (!versions.length) return h("span", { class: "muted" }, "—");
    const v = Math.max(...versions);
    return h("a", { href: href.version(m.name, v) }, `Version ${v}`);
  }
  const prev = h("button", { type: "button", class: "btn btn-small", onclick: () => (state.tokens.pop(), busy(load())) }, "‹ Previous");
  const next = h("button", { type: "button", class: "btn btn-small", onclick: () => (state.tokens.push(state.next), busy(load())) }, "Next ›");

  async function create() {
    const values = await openForm({
      title: "Create a registered model",
      submit: "Create",
      fields: [
        { name: "name", label: "Name", required: true },
        { name: "description", label: "Description (optional)" },
      ],
      validate: (v) => (v.name ? null : "A name is required"),
    });
    if (!values) return;
    if ((await attempt(() => createRegisteredModel(values.name, values.description), `Created ${values.name}`)) !== undefined) location.hash = href.model(values.name);
  }

  async function load() {
    if (closed) return;
    replaceQuery("/models", { search: state.search });
    let page;
    try {
      page = await searchRegisteredModels({ filter: state.search ? `name ILIKE ${quoteName(`%${state.search}%`)}` : "", maxResults: PAGE, pageToken: state.tokens.at(-1), orderBy: ["name ASC"] });
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    error.textContent = "";
    table.setRows(page.registered_models || []);
    state.next = page.next_page_token || null;
    prev.disabled = state.tokens.length <= 1;
    next.disabled = !state.next;
  }

  root.append(
    h("div", { class: "page-head" }, h("h1", {}, "Registered models"), h("span", { class: "spacer" }), h("button", { type: "button", class: "btn btn-primary", "data-testid": "create-model", onclick: create }, "Create model")),
    h("div", { class: "toolbar" }, search),
    error,
    table.el,
    h("div", { class: "pager" }, prev, next),
  );
  await load();
  return () => {
    closed = true;
  };
}
