// Metric charts for one run or many overlaid: one card per metric key, an x axis of step,
// relative time or wall time, a log-scale toggle, and lazy drawing (a chart fetches its data
// when it scrolls into view). Long histories arrive downsampled by the server.
//
//   metricCharts(container, {runs: [{id, name}], keys: ["loss", ...], maxPoints}) -> cleanup()
// 500 points a run: more than a chart's width shows (MLflow's UI asks for 320).
import { metricHistories } from "../api.js";
import { append, h } from "../dom.js";
import { prefs } from "../state.js";
import { X_MODES, color, lineChart, metricSeries } from "./chart.js";

export function metricCharts(container, { runs, keys, maxPoints = 500 }) {
  const settings = { xMode: prefs.get("charts.xMode", "step"), logY: false, needle: "" };
  const cache = new Map(); // key -> Map(run id -> points)
  const destroyers = new Map(); // key -> destroy the drawn chart
  const cards = new Map();
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          draw(entry.target.dataset.metric);
        }
      }
    },
    { rootMargin: "200px" },
  );

  const xButtons = X_MODES.map(([mode, label]) =>
    h("button", { type: "button", "aria-pressed": String(mode === settings.xMode), "data-x-mode": mode, onclick: () => setX(mode) }, label),
  );
  const logBox = h("input", { type: "checkbox", "data-testid": "log-scale", onchange: () => ((settings.logY = logBox.checked), redrawAll()) });
  const filter =
    keys.length > 6
      ? h("input", { type: "search", placeholder: "Filter metrics…", "aria-label": "Filter metrics", oninput: (e) => ((settings.needle = e.target.value.toLowerCase()), applyFilter()) })
      : null;
  const legend =
    runs.length > 1
      ? h("div", { class: "chart-legend" }, runs.map((r, i) => h("span", { class: "legend-item" }, h("i", { style: { background: color(i) } }), r.name || r.id)))
      : null;
  const grid = h("div", { class: "chart-grid" });

  append(container, [
    h("div", { class: "toolbar chart-toolbar" }, h("div", { class: "segmented", role: "group", "aria-label": "X axis", "data-testid": "x-axis" }, xButtons), h("label", { class: "check" }, logBox, "Log scale"), filter),
    legend,
    keys.length ? grid : h("p", { class: "empty" }, "No metrics logged."),
  ]);

  for (const key of keys) {
    const card = h("div", { class: "card chart-card", "data-metric": key }, h("h3", {}, key), h("div", { class: "chart-body" }, h("div", { class: "loading" }, "Loading…")));
    cards.set(key, card);
    grid.append(card);
    observer.observe(card);
  }

  async function data(key) {
    if (!cache.has(key)) cache.set(key, metricHistories(runs.map((r) => r.id), key, maxPoints));
    return cache.get(key);
  }

  async function draw(key) {
    const card = cards.get(key);
    const body = card.querySelector(".chart-body");
    let byRun;
    try {
      byRun = await data(key);
    } catch (err) {
      body.replaceChildren(h("p", { class: "form-error" }, err.message));
      return;
    }
    destroyers.get(key)?.();
    body.replaceChildren();
    const series = runs
      .map((r, i) => ({ run: r, i, points: byRun.get(r.id) || [] }))
      .filter((s) => s.points.length)
      .map((s) => ({ label: s.run.name || s.run.id, color: color(s.i), ...metricSeries(s.points, settings.xMode) }));
    if (!series.length) {
      body.append(h("p", { class: "empty" }, "No values."));
      return;
    }
    const label = X_MODES.find(([m]) => m === settings.xMode)[1];
    destroyers.set(key, lineChart(body, { series, xMode: settings.xMode, xLabel: label, logY: settings.logY }));
  }

  function redrawAll() {
    for (const key of destroyers.keys()) draw(key);
  }

  function setX(mode) {
    settings.xMode = mode;
    prefs.set("charts.xMode", mode);
    for (const b of xButtons) b.setAttribute("aria-pressed", String(b.dataset.xMode === mode));
    redrawAll();
  }

  function applyFilter() {
    for (const [key, card] of cards) card.hidden = Boolean(settings.needle) && !key.toLowerCase().includes(settings.needle);
  }

  return () => {
    observer.disconnect();
    for (const destroy of destroyers.values()) destroy();
  };
}
