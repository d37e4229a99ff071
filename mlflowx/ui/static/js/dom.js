// Building the DOM: elements from data (text is always set as text, never parsed as HTML),
// formatters, and small helpers shared by the pages.

/**
 * h("a", {href: "#/x", class: "link", onclick: fn, dataset: {runId: id}}, "text", child, [more])
 * Attributes named on* become listeners; `false`/`null`/`undefined` attributes and children are left out.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (name === "value" || name === "checked" || name === "indeterminate") el[name] = value;
    else el.setAttribute(name === "className" ? "class" : name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// ---------------------------------------------------------------- links (the routes' one spelling)
export const href = {
  experiments: () => "#/experiments",
  experiment: (id, query) => `#/experiments/${encodeURIComponent(id)}${queryString(query)}`,
  run: (experimentId, runId, artifactPath) =>
    `#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}` +
    (artifactPath ? `/artifacts/${artifactPath.split("/").map(encodeURIComponent).join("/")}` : ""),
  loggedModel: (experimentId, modelId) => `#/experiments/${encodeURIComponent(experimentId)}/models/${encodeURIComponent(modelId)}`,
  compare: (runIds) => `#/compare-runs?runs=${runIds.map(encodeURIComponent).join(",")}`,
  models: () => "#/models",
  model: (name) => `#/models/${encodeURIComponent(name)}`,
  version: (name, version) => `#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
};

export function queryString(query) {
  if (!query) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// ---------------------------------------------------------------- formatting
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function fmtTime(ms) {
  return ms ? dateFormat.format(new Date(Number(ms))) : "";
}

/** "3 minutes ago" for recent times, the date for older ones. */
export function fmtAgo(ms, now = Date.now()) {
  if (!ms) return "";
  const s = Math.round((now - Number(ms)) / 1000);
  if (s < 0) return fmtTime(ms);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  if (s < 30 * 86400) return `${Math.floor(s / 86400)}d ago`;
  return fmtTime(ms);
}

export function fmtDuration(startMs, endMs) {
  if (!startMs || !endMs) return "";
  let s = (Number(endMs) - Number(startMs)) / 1000;
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (parts.length < 2 && s >= 1) parts.push(`${Math.floor(s)}s`);
  return parts.slice(0, 2).join(" ");
}

export function fmtNumber(value) {
  if (value === undefined || value === null || value === "") return "";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  const a = Math.abs(n);
  return a !== 0 && (a < 1e-4 || a >= 1e9) ? n.toExponential(4) : String(Number(n.toPrecision(6)));
}

export function fmtBytes(n) {
  if (n === undefined || n === null) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i ? `${v.toFixed(1)} ${units[i]}` : `${v} B`;
}

export function statusBadge(status) {
  const s = String(status || "UNKNOWN").toUpperCase();
  return h("span", { class: `badge status-${s.toLowerCase()}`, title: s }, s.charAt(0) + s.slice(1).toLowerCase());
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : "";
}

const SVG = "http://www.w3.org/2000/svg";

/** A small line icon: "copy". */
export function icon(name) {
  const paths = { copy: ["M9 9h10v10H9z", "M5 15V5h10"] };
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  for (const d of paths[name]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export function copyButton(text, label = "Copy") {
  return h(
    "button",
    {
      type: "button",
      class: "btn-icon",
      title: `${label}: ${text}`,
      "aria-label": label,
      onclick: async (e) => {
        e.stopPropagation();
        try {
          await navigator.clipboard.writeText(text);
          e.currentTarget.classList.add("copied");
        } catch {}
      },
    },
    icon("copy"),
  );
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A titled section of a page. */
export function section(title, ...children) {
  return h("section", { class: "card" }, title ? h("h2", {}, title) : null, ...children);
}

export function emptyState(text) {
  return h("p", { class: "empty" }, text);
}

export function spinner(text = "Loading…") {
  return h("div", { class: "loading", role: "progressbar", "aria-label": text }, text);
}
