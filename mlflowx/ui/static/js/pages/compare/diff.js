// The compare page's diff table: attributes, params, metrics and tags side by side, rows that
// differ marked, equal rows hidden on demand, and each metric row's extremes marked.
import { isSystemTag } from "../../entities.js";
import { fmtDuration, fmtNumber, fmtTime, h, href } from "../../dom.js";

const same = (values) => values.every((v) => v === values[0]);

/** Rows of [group, key, label, values per run, numeric]. */
export function diffRows(runs) {
  const union = (pick) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort((a, b) => a.localeCompare(b));
  return [
    ["Attributes", "attributes.status", "Status", runs.map((r) => r.status), false],
    ["Attributes", "attributes.start_time", "Started", runs.map((r) => fmtTime(r.start)), false],
    ["Attributes", "duration", "Duration", runs.map((r) => fmtDuration(r.start, r.end)), false],
    ["Attributes", "attributes.user_id", "User", runs.map((r) => r.user), false],
    ...union((r) => r.params).map((k) => ["Parameters", `params.${k}`, k, runs.map((r) => r.params[k]), false]),
    ...union((r) => r.metrics).map((k) => ["Metrics", `metrics.${k}`, k, runs.map((r) => r.metrics[k]), true]),
    ...union((r) => r.tags)
      .filter((k) => !isSystemTag(k))
      .map((k) => ["Tags", `tags.${k}`, k, runs.map((r) => r.tags[k]), false]),
  ];
}

export function diffTable(runs, colorOf) {
  const rows = diffRows(runs);
  const body = h("tbody");
  let hideEqual = false;
  const toggle = h("input", { type: "checkbox", "data-testid": "hide-equal", onchange: () => ((hideEqual = toggle.checked), draw()) });

  function cell(value, numeric, extremes) {
    if (value === undefined || value === null || value === "") return h("td", { class: "missing" }, "—");
    const shown = numeric ? fmtNumber(value) : String(value);
    const mark = numeric && extremes ? (value === extremes.max ? "max" : value === extremes.min ? "min" : null) : null;
    return h("td", { class: [numeric ? "num" : "", mark ? `extreme-${mark}` : ""].join(" ").trim() || null, title: mark ? `${mark} of this row` : String(value) }, shown);
  }

  function draw() {
    const out = [];
    let group = null;
    for (const [g, key, label, values, numeric] of rows) {
      const equal = same(values);
      if (hideEqual && equal) continue;
      if (g !== group) {
        group = g;
        out.push(h("tr", { class: "group-row" }, h("th", { colspan: runs.length + 1, scope: "colgroup" }, g)));
      }
      const nums = numeric ? values.filter((v) => Number.isFinite(v)) : [];
      const extremes = nums.length > 1 && !equal ? { max: Math.max(...nums), min: Math.min(...nums) } : null;
      out.push(h("tr", { "data-key": key, class: equal ? "equal" : "differs" }, h("th", { scope: "row", title: key }, label), values.map((v) => cell(v, numeric, extremes))));
    }
    if (!out.length) out.push(h("tr", { class: "empty-row" }, h("td", { colspan: runs.length + 1 }, "Every value is the same in these runs.")));
    body.replaceChildren(...out);
  }

  draw();
  return h(
    "div",
    {},
    h("div", { class: "toolbar" }, h("label", { class: "check" }, toggle, "Hide equal values"), h("span", { class: "muted" }, `${rows.filter((r) => !same(r[3])).length} of ${rows.length} rows differ`)),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "data-table compare-table", "data-testid": "compare-table" },
        h("thead", {}, h("tr", {}, h("th", {}, ""), runs.map((r, i) => h("th", { "data-run-id": r.id }, h("span", { class: "swatch", style: { background: colorOf(i) } }), h("a", { href: href.run(r.experimentId, r.id) }, r.name || r.id))))),
        body,
      ),
    ),
  );
}
