// The compare page's plots over any columns: parallel coordinates and a scatter plot.
import { columnValue } from "../../entities.js";
import { h } from "../../dom.js";
import { scatterChart } from "../../components/chart.js";
import { parallelCoordinates } from "../../components/parallel.js";

const MAX_DEFAULT_AXES = 8;

/** Every column the runs have, as [key, label] (DSL keys, readable labels). */
export function plotColumns(runs) {
  const union = (pick, kind) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort((a, b) => a.localeCompare(b)).map((k) => [`${kind}.${k}`, k]);
  return [
    ...union((r) => r.params, "params"),
    ...union((r) => r.metrics, "metrics"),
    ["attributes.start_time", "start time"],
    ["duration", "duration (s)"],
  ];
}

function value(run, key) {
  if (key === "duration") return run.start && run.end ? (run.end - run.start) / 1000 : undefined;
  const dot = key.indexOf(".");
  const kind = key.slice(0, dot);
  const name = key.slice(dot + 1);
  if (kind === "params") return run.params[name];
  if (kind === "metrics") return run.metrics[name];
  return columnValue(run, key);
}

const isNumeric = (runs, key) => runs.some((r) => value(r, key) !== undefined) && runs.every((r) => value(r, key) === undefined || Number.isFinite(Number(value(r, key))));
const differs = (runs, key) => new Set(runs.map((r) => String(value(r, key)))).size > 1;

export function parallelSection(container, runs, colorOf) {
  const columns = plotColumns(runs).filter(([k]) => !k.startsWith("attributes."));
  let chosen = columns.filter(([k]) => differs(runs, k)).slice(0, MAX_DEFAULT_AXES).map(([k]) => k);
  // Params first, then metrics: the usual reading, from knobs to outcomes.
  const plot = h("div", { class: "pc-plot" });
  const chooser = h(
    "details",
    { class: "axis-chooser" },
    h("summary", {}, "Axes"),
    h(
      "div",
      { class: "axis-options" },
      columns.map(([key, label]) =>
        h("label", { class: "check" }, h("input", { type: "checkbox", "data-axis-option": key, checked: chosen.includes(key), onchange: (e) => ((chosen = e.target.checked ? [...chosen, key] : chosen.filter((k) => k !== key)), draw()) }), `${key.split(".")[0]}: ${label}`),
      ),
    ),
  );
  function draw() {
    const ordered = columns.map(([k]) => k).filter((k) => chosen.includes(k));
    const axes = ordered.map((key) => ({ key, label: key.slice(key.indexOf(".") + 1), value: (r) => value(r, key) }));
    plot.replaceChildren();
    if (axes.length < 2) {
      plot.append(h("p", { class: "empty" }, "Choose at least two axes."));
      return;
    }
    parallelCoordinates(plot, { runs: runs.map((r, i) => ({ ...r, color: colorOf(i) })), axes });
  }
  container.append(chooser, plot);
  requestAnimationFrame(draw); // after layout, so the plot takes the card's width
}

export function scatterSection(container, runs) {
  const numeric = plotColumns(runs).filter(([k]) => isNumeric(runs, k));
  if (numeric.length < 2) {
    container.append(h("p", { class: "empty" }, "A scatter plot needs two numeric columns."));
    return () => {};
  }
  const metricKeys = numeric.filter(([k]) => k.startsWith("metrics."));
  const paramKeys = numeric.filter(([k]) => k.startsWith("params."));
  let x = (paramKeys[0] || numeric[0])[0];
  let y = (metricKeys.find(([k]) => k !== x) || numeric.find(([k]) => k !== x))[0];
  const select = (current, onChange, testid) =>
    h("select", { "data-testid": testid, onchange: (e) => onChange(e.target.value) }, numeric.map(([k, label]) => h("option", { value: k, selected: k === current }, `${k.split(".")[0]}: ${label}`)));
  const plot = h("div", { "data-testid": "scatter" });
  let destroy = () => {};
  function draw() {
    destroy();
    plot.replaceChildren();
    const points = runs.map((r) => ({ x: Number(value(r, x)), y: Number(value(r, y)), label: r.name || r.id }));
    destroy = scatterChart(plot, { points, xLabel: x, yLabel: y });
  }
  container.append(
    h("div", { class: "toolbar" }, h("label", {}, "X ", select(x, (v) => ((x = v), draw()), "scatter-x")), h("label", {}, "Y ", select(y, (v) => ((y = v), draw()), "scatter-y"))),
    plot,
  );
  requestAnimationFrame(draw);
  return () => destroy();
}
