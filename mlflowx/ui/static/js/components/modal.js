// A small form in a native <dialog>: resolves with the entered values, or null when cancelled.
import { h } from "../dom.js";

/**
 * openForm({title, fields: [{name, label, value, placeholder, required, type}], submit: "Save"})
 * ``validate(values)`` may return an error message that keeps the dialog open.
 */
export function openForm({ title, fields, submit = "Save", danger = false, message, validate }) {
  return new Promise((resolve) => {
    const error = h("p", { class: "form-error", role: "alert" });
    const inputs = fields.map((f) =>
      h("input", { name: f.name, value: f.value ?? "", placeholder: f.placeholder, required: f.required, type: f.type || "text", autocomplete: "off" }),
    );
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h2", {}, title),
      message ? h("p", {}, message) : null,
      fields.map((f, i) => h("label", {}, f.label, inputs[i])),
      error,
      h(
        "div",
        { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", value: "cancel", onclick: () => dialog.close("cancel") }, "Cancel"),
        h("button", { type: "submit", class: danger ? "btn btn-danger" : "btn btn-primary", value: "ok" }, submit),
      ),
    );
    const dialog = h("dialog", { class: "dialog" }, form);
    form.addEventListener("submit", (e) => {
      const values = Object.fromEntries(inputs.map((i) => [i.name, i.value.trim()]));
      const problem = validate?.(values);
      if (problem) {
        e.preventDefault();
        error.textContent = problem;
        return;
      }
      dialog.returnValue = "ok";
      dialog.values = values;
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? dialog.values || {} : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    inputs[0]?.focus();
  });
}

export const confirmAction = (title, message, submit = "Delete") => openForm({ title, message, fields: [], submit, danger: true }).then((v) => v !== null);
