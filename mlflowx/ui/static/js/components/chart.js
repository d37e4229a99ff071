// Line and scatter charts on uPlot (vendored): canvas drawing that stays fast with many points.
// Metric histories arrive downsampled by the server (get-history-bulk-interval).
import uPlot from "../../vendor/uplot/uPlot.esm.js";
import { fmtNumber, h } from "../dom.js";

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const color = (i) => PALETTE[i % PALETTE.length];

/** The x axes a metric chart offers (MLflow's: step, relative time, wall time). */
export const X_MODES = [
  ["step", "Step"],
  ["relative", "Time (relative)"],
  ["wall", "Wall time"],
];

/** Metric points ({step, timestamp, value}) as sorted x/y arrays for one x mode. */
export function metricSeries(points, xMode = "step") {
  const first = points.reduce((m, p) => Math.min(m, Number(p.timestamp)), Infinity);
  const pick = {
    step: (p) => Number(p.step),
    relative: (p) => (Number(p.timestamp) - first) / 1000,
    wall: (p) => Number(p.timestamp) / 1000,
  }[xMode];
  const pairs = points.map((p) => [pick(p), toNumber(p.value)]).sort((a, b) => a[0] - b[0]);
  return { x: pairs.map((p) => p[0]), y: pairs.map((p) => p[1]) };
}

function toNumber(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : null; // NaN/inf leave a gap instead of breaking the scale
}

function sizeOf(el, height) {
  return { width: Math.max(240, el.clientWidth || 600), height };
}

function observe(el, plot, height) {
  const observer = new ResizeObserver(() => plot.setSize(sizeOf(el, height)));
  observer.observe(el);
  return () => {
    observer.disconnect();
    plot.destroy();
  };
}

/**
 * lineChart(container, {series: [{label, x: [], y: []}], xMode, xLabel, yLabel, logY, height})
 * Returns a destroy function. Series with different x values are aligned with uPlot.join.
 */
export function lineChart(container, { series, xMode = "step", xLabel, yLabel, logY = false, height = 260, title }) {
  const box = h("div", { class: "chart", "data-testid": "metric-chart", "data-points": String(series.reduce((n, s) => n + s.x.length, 0)), "data-series": String(series.length) });
  container.append(box);
  const data = series.length === 1 ? [series[0].x, series[0].y] : uPlot.join(series.map((s) => [s.x, s.y]));
  const time = xMode === "wall";
  const plot = new uPlot(
    {
      ...sizeOf(box, height),
      title,
      scales: { x: { time }, y: logY ? { distr: 3 } : {} },
      axes: [
        { label: xLabel, values: time ? undefined : (u, ticks) => ticks.map(fmtNumber) },
        { label: yLabel, values: (u, ticks) => ticks.map(fmtNumber), size: 60 },
      ],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
      series: [
        { label: xLabel || "x", value: time ? "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" : (u, v) => fmtNumber(v) },
        ...series.map((s, i) => ({ label: s.label, stroke: s.color || color(i), width: 1.5, spanGaps: true, value: (u, v) => fmtNumber(v), points: { show: s.x.length < 60 } })),
      ],
    },
    data,
    box,
  );
  return observe(box, plot, height);
}

function padded(u, min, max) {
  const span = max - min || Math.abs(max) || 1;
  return [min - span * 0.06, max + span * 0.06];
}

/** scatterChart(container, {points: [{x, y, label}], xLabel, yLabel}) -> destroy */
export function scatterChart(container, { points, xLabel, yLabel, height = 320 }) {
  const box = h("div", { class: "chart", "data-testid": "scatter-chart", "data-points": String(points.length) });
  container.append(box);
  const sorted = [...points].filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
  const labels = sorted.map((p) => p.label);
  const plot = new uPlot(
    {
      ...sizeOf(box, height),
      // A margin around the points, so that those at the extremes are not cut by the frame.
      scales: { x: { time: false, range: padded }, y: { range: padded } },
      axes: [
        { label: xLabel, values: (u, ticks) => ticks.map(fmtNumber) },
        { label: yLabel, values: (u, ticks) => ticks.map(fmtNumber), size: 60 },
      ],
      legend: { live: true },
      series: [
        { label: xLabel, value: (u, v, si, i) => (i === null || i === undefined ? "" : `${fmtNumber(v)} (${labels[i] ?? ""})`) },
        { label: yLabel, stroke: color(0), fill: color(0), paths: () => null, points: { show: true, size: 8, fill: color(0) }, value: (u, v) => fmtNumber(v) },
      ],
    },
    [sorted.map((p) => p.x), sorted.map((p) => p.y)],
    box,
  );
  return observe(box, plot, height);
}
