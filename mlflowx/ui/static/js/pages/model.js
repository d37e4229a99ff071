// One registered model: description, tags, aliases, its versions; rename and delete.
import {
  deleteRegisteredModel,
  deleteRegisteredModelTag,
  getRegisteredModel,
  renameRegisteredModel,
  searchModelVersions,
  setRegisteredModelTag,
  updateRegisteredModel,
} from "../api.js";
import { fmtAgo, fmtTime, h, href, section, statusBadge } from "../dom.js";
import { dataTable } from "../components/table.js";
import { kvTable } from "../components/keyvalue.js";
import { confirmAction, openForm } from "../components/modal.js";
import { attempt } from "../components/toast.js";
import { aliasBadges, aliasEditor, descriptionEditor, quoteName, stageBadge } from "./registry/common.js";

/** Every version of a model, newest first. */
export async function allVersions(name) {
  const versions = [];
  let token;
  do {
    const page = await searchModelVersions({ filter: `name = ${quoteName(name)}`, maxResults: 200, pageToken: token });
    versions.push(...(page.model_versions || []));
    token = page.next_page_token;
  } while (token);
  return versions.sort((a, b) => Number(b.version) - Number(a.version));
}

export async function render(root, params) {
  const name = params.name;
  const [model, versions] = await Promise.all([getRegisteredModel(name), allVersions(name)]);
  const aliasesOf = (aliases) => {
    const by = {};
    for (const a of aliases) (by[a.version] ||= []).push(a.alias);
    return by;
  };
  let byVersion = aliasesOf(model.aliases || []);

  const table = dataTable({
    testid: "versions-table",
    rowKey: (v) => v.version,
    rowAttrs: (v) => ({ "data-version": v.version }),
    empty: "No versions yet.",
    columns: [
      { key: "version", label: "Version", render: (v) => h("a", { href: href.version(name, v.version), class: "version-link" }, `Version ${v.version}`) },
      { key: "aliases", label: "Aliases", render: (v) => aliasBadges(byVersion[v.version]) },
      { key: "stage", label: "Stage", render: (v) => stageBadge(v.current_stage) },
      { key: "status", label: "Status", render: (v) => statusBadge(v.status) },
      { key: "created", label: "Registered", render: (v) => h("span", { title: fmtTime(v.creation_timestamp) }, fmtAgo(v.creation_timestamp)) },
      { key: "run", label: "Source run", className: "mono", render: (v) => (v.run_id ? h("a", { href: `#/runs/${encodeURIComponent(v.run_id)}`, "data-testid": "version-run" }, v.run_id.slice(0, 8)) : "") },
      { key: "description", label: "Description", className: "desc", render: (v) => v.description || "" },
    ],
  });
  table.setRows(versions);

  async function rename() {
    const values = await openForm({ title: `Rename ${name}`, submit: "Rename", fields: [{ name: "name", label: "New name", value: name, required: true }] });
    if (!values || values.name === name) return;
    if ((await attempt(() => renameRegisteredModel(name, values.name), `Renamed to ${values.name}`)) !== undefined) location.hash = href.model(values.name);
  }

  async function remove() {
    if (!(await confirmAction(`Delete ${name}?`, `The registered model and its ${versions.length} version(s) are deleted for good. The runs and their files stay.`))) return;
    if ((await attempt(() => deleteRegisteredModel(name), `Deleted ${name}`)) !== undefined) location.hash = href.models();
  }

  root.append(
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("div", { class: "breadcrumbs" }, h("a", { href: href.models() }, "Registered models")), h("h1", { "data-testid": "model-name" }, name)),
      h("span", { class: "spacer" }),
      h("span", { class: "muted" }, `Created ${fmtTime(model.creation_timestamp)} · modified ${fmtAgo(model.last_updated_timestamp)}`),
      h("button", { type: "button", class: "btn", "data-testid": "rename-model", onclick: rename }, "Rename"),
      h("button", { type: "button", class: "btn btn-quiet", "data-testid": "delete-model", onclick: remove }, "Delete"),
    ),
    h(
      "div",
      { class: "grid-2" },
      section("Description", descriptionEditor(model.description, (text) => updateRegisteredModel(name, text))),
      section(
        "Aliases",
        aliasEditor(
          name,
          (model.aliases || []).map((a) => ({ alias: a.alias, version: a.version })),
          (aliases) => {
            byVersion = aliasesOf(aliases);
            table.setRows(versions);
          },
          { defaultVersion: versions[0]?.version },
        ),
      ),
    ),
    section(`Versions (${versions.length})`, table.el),
    section(
      "Tags",
      kvTable(
        (model.tags || []).map((t) => [t.key, t.value]),
        { testid: "model-tags", empty: "No tags.", onSet: (k, v) => setRegisteredModelTag(name, k, v).then(() => true), onDelete: (k) => deleteRegisteredModelTag(name, k).then(() => true) },
      ),
    ),
  );
}
