// Key/value tables (params, tags, registry tags), optionally editable in place.
import { h } from "../dom.js";
import { openForm, confirmAction } from "./modal.js";
import { attempt } from "./toast.js";

/**
 * kvTable(entries: [[key, value]], {testid, empty, onSet(key, value), onDelete(key), filter: bool})
 * With onSet the table gets "Add" and per-row "Edit"; with onDelete, per-row "Delete". The
 * callbacks return promises; the table redraws with the new entries on success.
 */
export function kvTable(entries, { testid, empty = "None", onSet, onDelete, filterable = false, keyLabel = "Key", valueLabel = "Value" } = {}) {
  let rows = [...entries].sort(([a], [b]) => a.localeCompare(b));
  let needle = "";
  const body = h("tbody");
  const table = h("table", { class: "data-table kv-table", "data-testid": testid }, h("thead", {}, h("tr", {}, h("th", {}, keyLabel), h("th", {}, valueLabel), onSet || onDelete ? h("th", { class: "actions" }) : null)), body);

  async function edit(key, value) {
    const values = await openForm({
      title: key === undefined ? "Add" : `Edit ${key}`,
      fields: [
        { name: "key", label: keyLabel, value: key ?? "", required: true },
        { name: "value", label: valueLabel, value: value ?? "" },
      ],
      validate: (v) => (v.key ? null : `${keyLabel} is required`),
    });
    if (!values) return;
    const ok = await attempt(() => onSet(values.key, values.value), `Saved ${values.key}`);
    if (ok === undefined) return;
    rows = rows.filter(([k]) => k !== values.key && k !== key);
    if (key !== undefined && key !== values.key && onDelete) await attempt(() => onDelete(key));
    rows.push([values.key, values.value]);
    rows.sort(([a], [b]) => a.localeCompare(b));
    draw();
  }

  async function remove(key) {
    if (!(await confirmAction(`Delete ${key}?`, `The tag "${key}" will be removed.`))) return;
    if ((await attempt(() => onDelete(key), `Deleted ${key}`)) === undefined) return;
    rows = rows.filter(([k]) => k !== key);
    draw();
  }

  function draw() {
    const shown = needle ? rows.filter(([k, v]) => `${k}\u0000${v}`.toLowerCase().includes(needle)) : rows;
    if (!shown.length) {
      body.replaceChildren(h("tr", { class: "empty-row" }, h("td", { colspan: 3 }, empty)));
      return;
    }
    body.replaceChildren(
      ...shown.map(([k, v]) =>
        h(
          "tr",
          { "data-key": k },
          h("td", { class: "kv-key" }, k),
          h("td", { class: "kv-value" }, v),
          onSet || onDelete
            ? h(
                "td",
                { class: "actions" },
                onSet ? h("button", { type: "button", class: "btn btn-small", onclick: () => edit(k, v) }, "Edit") : null,
                onDelete ? h("button", { type: "button", class: "btn btn-small btn-quiet", onclick: () => remove(k) }, "Delete") : null,
              )
            : null,
        ),
      ),
    );
  }

  draw();
  const tools = h(
    "div",
    { class: "toolbar" },
    filterable ? h("input", { type: "search", placeholder: "Filter…", "aria-label": "Filter", oninput: (e) => ((needle = e.target.value.toLowerCase()), draw()) }) : null,
    onSet ? h("button", { type: "button", class: "btn btn-small", "data-testid": testid ? `${testid}-add` : null, onclick: () => edit(undefined, "") }, "Add") : null,
  );
  return h("div", { class: "kv" }, filterable || onSet ? tools : null, h("div", { class: "table-scroll" }, table));
}
