// The runs table's columns: the run attributes, and the params, metrics and tags found in the
// runs shown; which are visible is chosen per experiment and remembered in this browser.
import { columnKey, columnValue, isSystemTag } from "../../entities.js";
import { fmtAgo, fmtDuration, fmtNumber, fmtTime, h, href, statusBadge } from "../../dom.js";
import { prefs } from "../../state.js";

export const ATTRIBUTES = [
  { key: "attributes.start_time", label: "Created", sortable: true, defaultDesc: true, render: (r) => h("span", { title: fmtTime(r.start) }, fmtAgo(r.start)) },
  { key: "duration", label: "Duration", render: (r) => fmtDuration(r.start, r.end) },
  { key: "attributes.user_id", label: "User", sortable: true, render: (r) => r.user },
  { key: "attributes.status", label: "Status", sortable: true, render: (r) => statusBadge(r.status) },
  { key: "tags.`mlflow.source.name`", label: "Source", sortable: true, className: "source", render: (r) => sourceName(r.tags["mlflow.source.name"]) },
  { key: "attributes.end_time", label: "Ended", sortable: true, defaultDesc: true, render: (r) => h("span", { title: fmtTime(r.end) }, fmtAgo(r.end)) },
  { key: "attributes.run_id", label: "Run ID", sortable: true, className: "mono", render: (r) => r.id },
];
const DEFAULT_ATTRIBUTES = ["attributes.start_time", "duration", "attributes.user_id", "attributes.status", "tags.`mlflow.source.name`"];

function sourceName(path) {
  if (!path) return "";
  return path.split(/[\\/]/).pop();
}

/** The name column, always first: a link to the run page. */
export function nameColumn(experimentIdOf) {
  return {
    key: "attributes.run_name",
    label: "Run name",
    sortable: true,
    className: "run-name",
    render: (r) => h("a", { href: href.run(experimentIdOf(r), r.id), title: r.id }, r.name || r.id),
  };
}

/** Every key of the runs as DSL column keys, grouped: {metrics: [...], params: [...], tags: [...]} */
export function discoverKeys(runs) {
  const metrics = new Set();
  const params = new Set();
  const tags = new Set();
  for (const r of runs) {
    for (const k of Object.keys(r.metrics)) metrics.add(columnKey("metrics", k));
    for (const k of Object.keys(r.params)) params.add(columnKey("params", k));
    for (const k of Object.keys(r.tags)) if (!isSystemTag(k)) tags.add(columnKey("tags", k));
  }
  const sorted = (s) => [...s].sort((a, b) => a.localeCompare(b));
  return { metrics: sorted(metrics), params: sorted(params), tags: sorted(tags) };
}

export function valueColumn(key) {
  const [kind, ...rest] = key.split(".");
  const name = rest.join(".").replace(/^`(.*)`$/, "$1").replaceAll("``", "`");
  const numeric = kind === "metrics";
  return {
    key,
    label: name,
    title: key,
    sortable: true,
    numeric,
    defaultDesc: numeric,
    className: `col-${kind}`,
    render: (r) => {
      const v = columnValue(r, key);
      return numeric ? fmtNumber(v) : v ?? "";
    },
  };
}

/**
 * The visible column keys for these experiments: what the user chose (remembered), or by default
 * the usual attributes with every metric and param found, and no tags.
 */
export class ColumnChoice {
  constructor(scope) {
    this.prefKey = `runs.columns.${scope}`;
    this.chosen = prefs.get(this.prefKey, null); // null: the default set
    this.known = { metrics: [], params: [], tags: [] };
  }

  learn(keys) {
    for (const kind of ["metrics", "params", "tags"]) {
      this.known[kind] = [...new Set([...this.known[kind], ...keys[kind]])].sort((a, b) => a.localeCompare(b));
    }
    if (this.chosen) {
      // Keys chosen earlier that these runs do not have stay offered, so a choice is not lost.
      for (const key of this.chosen) {
        const kind = key.split(".")[0];
        if (this.known[kind] && !this.known[kind].includes(key)) this.known[kind].push(key);
      }
    }
  }

  visible() {
    if (this.chosen) return this.chosen;
    return [...DEFAULT_ATTRIBUTES, ...this.known.metrics, ...this.known.params];
  }

  set(key, on) {
    const current = new Set(this.visible());
    if (on) current.add(key);
    else current.delete(key);
    const order = [...ATTRIBUTES.map((c) => c.key), ...this.known.metrics, ...this.known.params, ...this.known.tags];
    this.chosen = order.filter((k) => current.has(k));
    prefs.set(this.prefKey, this.chosen);
  }

  reset() {
    this.chosen = null;
    prefs.remove(this.prefKey);
  }

  columns() {
    const byKey = new Map(ATTRIBUTES.map((c) => [c.key, c]));
    return this.visible().map((key) => byKey.get(key) || valueColumn(key));
  }
}

/** The chooser: a button that opens a panel of checkboxes, grouped by kind, with a search box. */
export function columnChooser(choice, onChange, signal) {
  const panel = h("div", { class: "column-panel", hidden: true, "data-testid": "column-panel" });
  const button = h("button", { type: "button", class: "btn", "aria-expanded": "false", "data-testid": "columns-button", onclick: () => toggle() }, "Columns");
  const box = h("div", { class: "column-chooser" }, button, panel);
  let needle = "";

  function toggle(open = panel.hidden) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) draw();
  }

  function group(title, keys, labelOf) {
    const visible = new Set(choice.visible());
    const shown = keys.filter((k) => !needle || labelOf(k).toLowerCase().includes(needle));
    if (!shown.length) return null;
    return h(
      "fieldset",
      {},
      h("legend", {}, title),
      shown.map((key) =>
        h(
          "label",
          { class: "column-option" },
          h("input", {
            type: "checkbox",
            "data-column": key,
            checked: visible.has(key),
            onchange: (e) => {
              choice.set(key, e.target.checked);
              onChange();
            },
          }),
          labelOf(key),
        ),
      ),
    );
  }

  function draw() {
    const strip = (k) => k.slice(k.indexOf(".") + 1).replace(/^`(.*)`$/, "$1");
    const search = h("input", { type: "search", placeholder: "Find a column…", "aria-label": "Find a column", value: needle, oninput: (e) => ((needle = e.target.value.toLowerCase()), draw(), panel.querySelector("input[type=search]").focus()) });
    panel.replaceChildren(
      h("div", { class: "column-panel-head" }, search, h("button", { type: "button", class: "btn btn-small btn-quiet", onclick: () => (choice.reset(), onChange(), draw()) }, "Reset")),
      group("Attributes", ATTRIBUTES.map((c) => c.key), (k) => ATTRIBUTES.find((c) => c.key === k).label),
      group("Metrics", choice.known.metrics, strip),
      group("Parameters", choice.known.params, strip),
      group("Tags", choice.known.tags, strip),
    );
  }

  document.addEventListener(
    "click",
    (e) => {
      if (!panel.hidden && !box.contains(e.target)) toggle(false);
    },
    { signal },
  );
  return box;
}
