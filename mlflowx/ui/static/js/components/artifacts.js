// The artifact browser: a lazily opened file tree and a preview of the chosen file by its type
// (text, JSON, YAML, CSV as a table, images, HTML in a sandbox, MLmodel with a summary), with
// a download link for every file. A source says where files are listed and read:
//   {list(path) -> Promise<[{path, is_dir, file_size}]>, url(path) -> string}
import { rangeText } from "../api.js";
import { fmtBytes, h } from "../dom.js";
import { parseCsv } from "./csv.js";
import { mlmodelSummary } from "./mlmodel.js";

const IMAGE = /\.(png|jpe?g|gif|webp|bmp)$/i;
const TEXT = /\.(txt|log|md|py|ya?ml|sh|cfg|ini|toml|xml|svg|r|sql|ipynb|json|csv|tsv|html?)$/i;
const TEXT_NAMES = new Set(["MLmodel", "MLproject", "requirements.txt", "conda.yaml", "python_env.yaml", "Dockerfile"]);
const PREVIEW_BYTES = 1 << 20;
const CSV_ROWS = 500;

export const baseName = (path) => path.split("/").pop();

export function artifactBrowser(container, source, { selected, onSelect, snippet } = {}) {
  const tree = h("ul", { class: "artifact-tree", role: "tree", "data-testid": "artifact-tree" });
  const preview = h("div", { class: "artifact-preview", "data-testid": "artifact-preview" }, h("p", { class: "empty" }, "Select a file to preview it."));
  container.append(h("div", { class: "artifact-browser" }, h("div", { class: "artifact-tree-box" }, tree), preview));
  let current = null;

  async function fill(list, path, depth) {
    let files;
    try {
      files = await source.list(path);
    } catch (err) {
      list.replaceChildren(h("li", { class: "form-error" }, err.message));
      return;
    }
    files.sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
    if (!files.length && depth === 0) list.replaceChildren(h("li", { class: "empty" }, "No artifacts."));
    else list.replaceChildren(...files.map((f) => node(f, depth)));
  }

  function node(file, depth) {
    const item = h("li", { role: "treeitem", "data-path": file.path, "aria-expanded": file.is_dir ? "false" : null });
    const label = h(
      "button",
      { type: "button", class: file.is_dir ? "tree-dir" : "tree-file", style: { paddingLeft: `${0.4 + depth * 1}rem` }, onclick: () => (file.is_dir ? toggle(item, file, depth) : show(file)) },
      h("span", { class: "tree-icon", "aria-hidden": "true" }, file.is_dir ? "▸" : "•"),
      baseName(file.path),
      file.is_dir ? null : h("span", { class: "muted size" }, fmtBytes(file.file_size)),
    );
    item.append(label);
    return item;
  }

  async function toggle(item, file, depth) {
    const open = item.getAttribute("aria-expanded") !== "true";
    item.setAttribute("aria-expanded", String(open));
    item.querySelector(".tree-icon").textContent = open ? "▾" : "▸";
    let sub = item.querySelector(":scope > ul");
    if (!open) {
      if (sub) sub.hidden = true;
      return;
    }
    if (!sub) {
      sub = h("ul", { role: "group" }, h("li", { class: "loading" }, "Loading…"));
      item.append(sub);
      await fill(sub, file.path, depth + 1);
    }
    sub.hidden = false;
  }

  async function show(file) {
    current = file.path;
    for (const el of tree.querySelectorAll("[aria-selected]")) el.removeAttribute("aria-selected");
    tree.querySelector(`li[data-path="${CSS.escape(file.path)}"]`)?.setAttribute("aria-selected", "true");
    onSelect?.(file.path);
    const url = source.url(file.path);
    const name = baseName(file.path);
    const head = h(
      "div",
      { class: "preview-head" },
      h("span", { class: "mono path", "data-testid": "preview-path" }, file.path),
      file.file_size !== undefined ? h("span", { class: "muted" }, fmtBytes(file.file_size)) : null,
      h("a", { class: "btn btn-small", href: url, download: name, "data-testid": "artifact-download" }, "Download"),
    );
    const body = h("div", { class: "preview" }, h("div", { class: "loading" }, "Loading…"));
    preview.replaceChildren(head, body);
    try {
      const content = await render(file, url, name);
      if (current === file.path) body.replaceChildren(...content.filter(Boolean));
    } catch (err) {
      if (current === file.path) body.replaceChildren(h("p", { class: "form-error" }, err.message));
    }
  }

  async function render(file, url, name) {
    if (IMAGE.test(name)) {
      return [h("img", { src: url, alt: name, "data-testid": "preview-image" })];
    }
    if (!TEXT.test(name) && !TEXT_NAMES.has(name)) {
      return [h("p", { class: "empty" }, "No preview for this type of file; download it instead.")];
    }
    const { text, truncated } = await rangeText(url, PREVIEW_BYTES);
    const note = truncated ? h("p", { class: "muted truncated" }, `Showing the first ${fmtBytes(PREVIEW_BYTES)}.`) : null;
    const lower = name.toLowerCase();
    if (name === "MLmodel") return [mlmodelSummary(text, file.path, snippet), pre(text, "yaml")];
    if (lower.endsWith(".json") && !truncated) {
      try {
        return [pre(JSON.stringify(JSON.parse(text), null, 2), "json")];
      } catch {
        return [pre(text)];
      }
    }
    if (lower.endsWith(".csv") || lower.endsWith(".tsv")) {
      const rows = parseCsv(text, lower.endsWith(".tsv") ? "\t" : ",");
      if (truncated && rows.length > 1) rows.pop(); // the cut may fall inside the last row
      return [note, csvTable(rows)];
    }
    if (/\.html?$/.test(lower)) {
      // Never this origin's script: an empty sandbox runs nothing and reaches nothing.
      return [note, h("iframe", { sandbox: "", srcdoc: text, title: name, "data-testid": "preview-html" })];
    }
    return [note, pre(text)];
  }

  fill(tree, "", 0).then(async () => {
    if (!selected) return;
    // Open the folders down to a file named in the URL, then show it.
    const parts = selected.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      const item = tree.querySelector(`li[data-path="${CSS.escape(dir)}"]`);
      if (!item) return;
      if (item.getAttribute("aria-expanded") !== "true") await toggle(item, { path: dir, is_dir: true }, i - 1);
    }
    show({ path: selected, is_dir: false });
  });
}

function pre(text, kind) {
  return h("pre", { class: kind ? `code-${kind}` : null, "data-testid": "preview-text" }, text);
}

function csvTable(rows) {
  if (!rows.length) return h("p", { class: "empty" }, "Empty file.");
  const [header, ...body] = rows;
  const shown = body.slice(0, CSV_ROWS);
  return h(
    "div",
    {},
    h(
      "table",
      { class: "data-table csv-table", "data-testid": "preview-csv" },
      h("thead", {}, h("tr", {}, header.map((c) => h("th", {}, c)))),
      h("tbody", {}, shown.map((r) => h("tr", {}, header.map((_, i) => h("td", {}, r[i] ?? ""))))),
    ),
    body.length > CSV_ROWS ? h("p", { class: "muted" }, `Showing ${CSV_ROWS} of ${body.length} rows.`) : null,
  );
}
