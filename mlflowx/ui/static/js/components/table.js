// One data table for every page: sortable headers (the caller sorts: on the server or with
// sortRows), row selection, and an optional tree of rows (nested runs).
import { h } from "../dom.js";

/**
 * dataTable({
 *   columns: [{key, label, title, render(row) -> Node|string, sortable, numeric, className}],
 *   rowKey(row) -> string, rowAttrs(row) -> {...}, testid,
 *   sort: {key, desc}, onSort(key, desc),
 *   selectable: bool, selected: Set<string>, onSelect(selected),
 *   tree: {depth(row), hasChildren(row), expanded(row), onToggle(row)} (or null; see setTree),
 *   empty: "No rows",
 * }) -> {el, table, selected, setRows(rows), setSort(sort), setColumns(columns, rows?), setTree(tree)}
 */
export function dataTable(options) {
  const { columns, rowKey, testid, selectable } = options;
  const selected = options.selected || new Set();
  let sort = options.sort || null;
  let rows = [];
  let anyParent = false; // some row has children: leaf rows get a spacer to line up

  const head = h("thead");
  const body = h("tbody");
  const table = h("table", { class: "data-table", "data-testid": testid }, head, body);
  const all = selectable ? h("input", { type: "checkbox", "aria-label": "Select all rows", onchange: () => toggleAll(all.checked) }) : null;

  function drawHead() {
    const cells = columns.map((col) => {
      const active = sort && sort.key === col.key;
      const attrs = {
        "data-key": col.key,
        title: col.title || col.key,
        class: [col.numeric ? "num" : "", col.sortable ? "sortable" : "", col.className || ""].join(" ").trim(),
        scope: "col",
        "aria-sort": active ? (sort.desc ? "descending" : "ascending") : col.sortable ? "none" : null,
      };
      if (col.sortable) {
        attrs.tabindex = 0;
        attrs.onclick = () => options.onSort?.(col.key, active ? !sort.desc : col.defaultDesc ?? false);
        attrs.onkeydown = (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), attrs.onclick());
      }
      return h("th", attrs, h("span", { class: "th-label" }, col.label), active ? h("span", { class: "sort-mark", "aria-hidden": "true" }, sort.desc ? "▼" : "▲") : null);
    });
    head.replaceChildren(h("tr", {}, selectable ? h("th", { class: "select" }, all) : null, cells));
  }

  function toggleAll(on) {
    for (const row of rows) {
      const key = rowKey(row);
      if (on) selected.add(key);
      else selected.delete(key);
    }
    drawBody();
    options.onSelect?.(selected);
  }

  function drawBody() {
    if (!rows.length) {
      body.replaceChildren(h("tr", { class: "empty-row" }, h("td", { colspan: columns.length + (selectable ? 1 : 0) }, options.empty || "Nothing to show")));
    } else {
      anyParent = Boolean(options.tree) && rows.some((r) => options.tree.hasChildren(r));
      body.replaceChildren(...rows.map(drawRow));
    }
    if (all) {
      const n = rows.filter((r) => selected.has(rowKey(r))).length;
      all.checked = n > 0 && n === rows.length;
      all.indeterminate = n > 0 && n < rows.length;
    }
  }

  function drawRow(row) {
    const key = rowKey(row);
    const tr = h("tr", { ...(options.rowAttrs?.(row) || {}), class: selected.has(key) ? "selected" : null });
    if (selectable) {
      const box = h("input", {
        type: "checkbox",
        "aria-label": `Select ${key}`,
        checked: selected.has(key),
        onchange: () => {
          if (box.checked) selected.add(key);
          else selected.delete(key);
          tr.classList.toggle("selected", box.checked);
          drawHeadState();
          options.onSelect?.(selected);
        },
      });
      tr.append(h("td", { class: "select" }, box));
    }
    const tree = options.tree;
    columns.forEach((col, i) => {
      const content = col.render ? col.render(row) : row[col.key];
      const td = h("td", { class: [col.numeric ? "num" : "", col.className || ""].join(" ").trim() || null });
      if (i === 0 && tree) {
        const depth = tree.depth(row);
        td.style.paddingLeft = `${0.5 + depth * 1.25}rem`;
        if (tree.hasChildren(row)) {
          const open = tree.expanded(row);
          td.append(h("button", { type: "button", class: "tree-toggle", "aria-expanded": String(open), "aria-label": open ? "Collapse" : "Expand", onclick: () => tree.onToggle(row) }, open ? "▾" : "▸"));
        } else if (depth > 0 || anyParent) {
          td.append(h("span", { class: "tree-spacer" }));
        }
      }
      td.append(content instanceof Node ? content : document.createTextNode(content ?? ""));
      tr.append(td);
    });
    return tr;
  }

  function drawHeadState() {
    if (!all) return;
    const n = rows.filter((r) => selected.has(rowKey(r))).length;
    all.checked = n > 0 && n === rows.length;
    all.indeterminate = n > 0 && n < rows.length;
  }

  drawHead();
  drawBody();
  return {
    el: h("div", { class: "table-scroll" }, table),
    table,
    selected,
    setRows(next) {
      rows = next;
      drawBody();
    },
    setSort(next) {
      sort = next;
      drawHead();
    },
    setTree(next) {
      options.tree = next;
      drawBody();
    },
    /** New columns (and, when given, new rows), drawn once. */
    setColumns(next, nextRows) {
      columns.splice(0, columns.length, ...next);
      if (nextRows) rows = nextRows;
      drawHead();
      drawBody();
    },
  };
}

/** Rows sorted by ``valueOf(row)``: numbers before text, missing values last in both directions. */
export function sortRows(rows, valueOf, desc) {
  const keyed = rows.map((row) => [valueOf(row), row]);
  keyed.sort(([a], [b]) => {
    const am = a === undefined || a === null || a === "";
    const bm = b === undefined || b === null || b === "";
    if (am || bm) return am === bm ? 0 : am ? 1 : -1;
    const an = Number(a);
    const bn = Number(b);
    const c = Number.isFinite(an) && Number.isFinite(bn) ? an - bn : String(a).localeCompare(String(b), undefined, { numeric: true });
    return desc ? -c : c;
  });
  return keyed.map(([, row]) => row);
}
