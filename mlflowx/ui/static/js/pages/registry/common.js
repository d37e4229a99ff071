// Pieces the registry pages share: stage and alias badges, an editable description, and the
// alias editor (set, move, remove).
import { deleteModelAlias, setModelAlias } from "../../api.js";
import { h } from "../../dom.js";
import { confirmAction, openForm } from "../../components/modal.js";
import { attempt } from "../../components/toast.js";

export const STAGES = ["None", "Staging", "Production", "Archived"];

export const quoteName = (name) => `'${String(name).replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;

export function stageBadge(stage) {
  const s = stage || "None";
  return s === "None" ? h("span", { class: "muted" }, "—") : h("span", { class: `badge stage-${s.toLowerCase()}` }, s);
}

export function aliasBadges(aliases) {
  return h("span", { class: "alias-list" }, (aliases || []).map((a) => h("span", { class: "badge alias", "data-alias": a }, `@${a}`)));
}

/** A description shown as text with an Edit button; ``save(text)`` returns a promise. */
export function descriptionEditor(text, save, testid = "description") {
  const shown = h("div", { class: "description", "data-testid": testid }, text || h("span", { class: "empty" }, "No description."));
  const edit = async () => {
    const values = await openForm({ title: "Edit description", submit: "Save", fields: [{ name: "description", label: "Description", value: text || "" }] });
    if (!values) return;
    if ((await attempt(() => save(values.description), "Description saved")) === undefined) return;
    text = values.description;
    shown.replaceChildren(text || h("span", { class: "empty" }, "No description."));
  };
  return h("div", { class: "description-box" }, shown, h("button", { type: "button", class: "btn btn-small", "data-testid": `${testid}-edit`, onclick: edit }, "Edit"));
}

/**
 * The aliases of a registered model as rows "alias -> version", with Add (or move: setting an
 * alias that exists moves it) and Remove. ``onChange()`` redraws whatever depends on them.
 */
export function aliasEditor(name, aliases, onChange, { defaultVersion } = {}) {
  const list = h("table", { class: "data-table", "data-testid": "aliases" });
  let current = [...aliases];
  function draw() {
    list.replaceChildren(
      h("thead", {}, h("tr", {}, h("th", {}, "Alias"), h("th", {}, "Version"), h("th", { class: "actions" }))),
      h(
        "tbody",
        {},
        current.length
          ? current.map(({ alias, version }) =>
              h(
                "tr",
                { "data-alias": alias },
                h("td", {}, h("span", { class: "badge alias" }, `@${alias}`)),
                h("td", { "data-version": version }, `Version ${version}`),
                h("td", { class: "actions" }, h("button", { type: "button", class: "btn btn-small btn-quiet", "data-action": "remove-alias", onclick: () => remove(alias) }, "Remove")),
              ),
            )
          : h("tr", { class: "empty-row" }, h("td", { colspan: 3 }, "No aliases.")),
      ),
    );
  }
  async function add() {
    const values = await openForm({
      title: "Set an alias",
      message: "Setting an alias that exists moves it to this version.",
      submit: "Set alias",
      fields: [
        { name: "alias", label: "Alias", placeholder: "champion", required: true },
        { name: "version", label: "Version", value: defaultVersion ?? "", required: true },
      ],
      validate: (v) => (!v.alias ? "An alias is required" : !/^\d+$/.test(v.version) ? "The version is a number" : null),
    });
    if (!values) return;
    if ((await attempt(() => setModelAlias(name, values.alias, values.version), `@${values.alias} now points to version ${values.version}`)) === undefined) return;
    current = [...current.filter((a) => a.alias !== values.alias), { alias: values.alias, version: values.version }].sort((a, b) => a.alias.localeCompare(b.alias));
    draw();
    onChange?.(current);
  }
  async function remove(alias) {
    if (!(await confirmAction(`Remove @${alias}?`, `Code that loads models:/${name}@${alias} will stop finding it.`, "Remove"))) return;
    if ((await attempt(() => deleteModelAlias(name, alias), `Removed @${alias}`)) === undefined) return;
    current = current.filter((a) => a.alias !== alias);
    draw();
    onChange?.(current);
  }
  draw();
  return h("div", {}, h("div", { class: "toolbar" }, h("button", { type: "button", class: "btn btn-small", "data-testid": "add-alias", onclick: add }, "Set alias")), h("div", { class: "table-scroll" }, list));
}
