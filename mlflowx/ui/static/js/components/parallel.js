// Parallel coordinates in SVG: one vertical axis per column (numeric: linear; text: its values
// in order), one polyline per run in the run's colour; hovering a line raises it and names its
// values. Hand-written: 100 runs by a dozen axes is small, and no small, kept library does it.
import { fmtNumber, h } from "../dom.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** A scale for one axis: numeric when every present value is a number, else ordinal. */
export function axisScale(values) {
  const present = values.filter((v) => v !== undefined && v !== null && v !== "");
  const numeric = present.length > 0 && present.every((v) => Number.isFinite(Number(v)));
  if (numeric) {
    const nums = present.map(Number);
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const span = hi - lo || 1;
    return { numeric, pos: (v) => (v === undefined || v === null || v === "" ? null : (Number(v) - lo) / span), ticks: lo === hi ? [[0.5, fmtNumber(lo)]] : [[0, fmtNumber(lo)], [0.5, fmtNumber(lo + span / 2)], [1, fmtNumber(hi)]] };
  }
  const cats = [...new Set(present.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const at = (c) => (cats.length === 1 ? 0.5 : cats.indexOf(c) / (cats.length - 1));
  return { numeric, pos: (v) => (v === undefined || v === null || v === "" ? null : at(String(v))), ticks: cats.map((c) => [at(c), c]) };
}

/**
 * parallelCoordinates(container, {runs: [{id, name, color}], axes: [{key, label, value(run)}]})
 * -> the <svg> element (a run's polyline is `path[data-run-id]`).
 */
export function parallelCoordinates(container, { runs, axes, height = 360 }) {
  const width = Math.max(480, container.clientWidth || 900);
  const pad = { top: 36, bottom: 28, left: 70, right: 70 };
  const innerH = height - pad.top - pad.bottom;
  const gap = axes.length > 1 ? (width - pad.left - pad.right) / (axes.length - 1) : 0;
  const x = (i) => pad.left + i * gap;
  const y = (p) => pad.top + (1 - p) * innerH;
  const scales = axes.map((a) => axisScale(runs.map((r) => a.value(r))));
  const tip = h("div", { class: "pc-tip", hidden: true });

  const lines = runs.map((run) => {
    const points = axes.map((a, i) => [x(i), scales[i].pos(a.value(run))]).filter(([, p]) => p !== null);
    const d = points.map(([px, p], i) => `${i ? "L" : "M"}${px.toFixed(1)},${y(p).toFixed(1)}`).join(" ");
    const path = svg("path", { d, class: "pc-line", stroke: run.color, "data-run-id": run.id });
    path.addEventListener("mouseenter", () => {
      path.classList.add("active");
      path.parentNode.append(path); // drawn last: on top
      tip.hidden = false;
      tip.replaceChildren(h("strong", {}, run.name || run.id), ...axes.map((a) => h("div", {}, `${a.label}: ${a.value(run) ?? "—"}`)));
    });
    path.addEventListener("mouseleave", () => {
      path.classList.remove("active");
      tip.hidden = true;
    });
    return path;
  });

  const axisEls = axes.map((a, i) =>
    svg(
      "g",
      { class: "pc-axis", "data-axis": a.key },
      svg("line", { x1: x(i), x2: x(i), y1: pad.top, y2: pad.top + innerH }),
      svg("text", { x: x(i), y: pad.top - 14, class: "pc-label", "text-anchor": "middle" }, a.label),
      scales[i].ticks.map(([p, label]) => svg("text", { x: x(i) - 6, y: y(p) + 4, class: "pc-tick", "text-anchor": "end" }, String(label).slice(0, 14))),
    ),
  );

  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "parallel", "data-testid": "parallel-coordinates", role: "img", "aria-label": "Parallel coordinates" }, svg("g", { class: "pc-lines" }, lines), axisEls);
  container.append(h("div", { class: "pc-box" }, root, tip));
  return root;
}
