// Tabs whose panels are drawn the first time they are opened; the open tab is kept in the URL's query (?tab=).
import { h } from "../dom.js";

/**
 * tabs([{id, label, render(panel)}], {active, onChange}) -> element; its ``ready`` promise
 * settles when the first panel's render (which may be async) has finished.
 */
export function tabs(items, { active, onChange } = {}) {
  const list = h("div", { class: "tabs", role: "tablist" });
  const panels = h("div", { class: "tab-panels" });
  const drawn = new Map();
  const buttons = new Map();

  function select(id) {
    for (const [key, button] of buttons) {
      button.setAttribute("aria-selected", String(key === id));
      button.tabIndex = key === id ? 0 : -1;
    }
    for (const [key, panel] of drawn) panel.hidden = key !== id;
    let rendered = Promise.resolve();
    if (!drawn.has(id)) {
      const item = items.find((t) => t.id === id);
      const panel = h("div", { class: "tab-panel", role: "tabpanel", id: `panel-${id}`, "data-tab": id });
      drawn.set(id, panel);
      panels.append(panel);
      rendered = Promise.resolve(item.render(panel)).catch((err) => {
        panel.replaceChildren(h("p", { class: "form-error", role: "alert" }, err.message || String(err)));
      });
    }
    onChange?.(id);
    return rendered;
  }

  for (const item of items) {
    const button = h("button", { type: "button", role: "tab", "aria-controls": `panel-${item.id}`, "data-tab": item.id, onclick: () => select(item.id) }, item.label);
    buttons.set(item.id, button);
    list.append(button);
  }
  const box = h("div", { class: "tabs-box" }, list, panels);
  box.ready = select(items.some((t) => t.id === active) ? active : items[0].id);
  return box;
}
