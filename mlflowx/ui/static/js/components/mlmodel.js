// What an MLmodel file says, drawn as a summary: flavors, signature, ids, and how to load it.
// The file is YAML written by mlflowx or MLflow; the few fields shown are read without a YAML
// library (top-level scalars, the flavors' names, the signature's single-quoted JSON).
import { h } from "../dom.js";

/** A top-level ``key: value`` scalar. */
function scalar(text, key) {
  const m = new RegExp(`^${key}:\\s*(.+)$`, "m").exec(text);
  return m ? m[1].trim().replace(/^['"]|['"]$/g, "") : null;
}

/** The names under the top-level ``flavors:`` mapping. */
export function flavorsOf(text) {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^flavors:\s*$/.test(l));
  if (start < 0) return [];
  const names = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const m = /^ {2}([A-Za-z0-9_.-]+):/.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

/** A single-quoted YAML scalar under ``signature:`` (``inputs``/``outputs``), folded lines joined. */
function signatureJson(text, key) {
  const m = new RegExp(`^ {2}${key}:\\s*'`, "m").exec(text);
  if (!m) return null;
  let out = "";
  let i = m.index + m[0].length;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      break;
    }
    if (c === "\n") {
      out += " ";
      i++;
      while (text[i] === " ") i++;
      continue;
    }
    out += c;
    i++;
  }
  try {
    return JSON.parse(out);
  } catch {
    return null;
  }
}

function columnsTable(title, spec, testid) {
  if (!Array.isArray(spec) || !spec.length) return null;
  return h(
    "div",
    {},
    h("h3", {}, title),
    h(
      "table",
      { class: "data-table", "data-testid": testid },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), h("th", {}, "Required"))),
      h(
        "tbody",
        {},
        spec.map((c) => h("tr", {}, h("td", {}, c.name ?? "(unnamed)"), h("td", { class: "mono" }, c.type === "tensor" ? `tensor ${c["tensor-spec"]?.dtype ?? ""} ${JSON.stringify(c["tensor-spec"]?.shape ?? "")}` : c.type), h("td", {}, c.required === false ? "no" : "yes"))),
      ),
    ),
  );
}

/** The signature as tables (also used by the model-version page). */
export function signatureTables(text) {
  const inputs = signatureJson(text, "inputs");
  const outputs = signatureJson(text, "outputs");
  if (!inputs && !outputs) return h("p", { class: "empty" }, "No signature.");
  return h("div", { class: "signature grid-2" }, columnsTable("Inputs", inputs, "signature-inputs"), columnsTable("Outputs", outputs, "signature-outputs"));
}

/** ``snippet(dir)`` gives the model URI of the MLmodel's folder for the loading example. */
export function mlmodelSummary(text, path, snippet) {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  const flavors = flavorsOf(text);
  const facts = [
    ["Flavors", h("span", {}, flavors.map((f) => h("span", { class: "badge" }, f)))],
    ["Model ID", scalar(text, "model_id")],
    ["Run ID", scalar(text, "run_id")],
    ["Created", scalar(text, "utc_time_created")],
    ["Saved by", scalar(text, "mlflowx_version") ? `mlflowx ${scalar(text, "mlflowx_version")}` : scalar(text, "mlflow_version") ? `MLflow ${scalar(text, "mlflow_version")}` : null],
  ].filter(([, v]) => v);
  const uri = snippet?.(dir);
  return h(
    "div",
    { class: "mlmodel-summary", "data-testid": "mlmodel-summary" },
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    signatureTables(text),
    uri ? h("pre", { class: "snippet", "data-testid": "load-snippet" }, `import mlflowx as mlflow   # or: import mlflow\nmodel = mlflow.pyfunc.load_model("${uri}")\nmodel.predict(data)`) : null,
  );
}
