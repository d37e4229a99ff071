// Short messages in the corner: confirmations and errors of actions (a page's own load errors
// are drawn in the page instead).
import { h } from "../dom.js";

export function toast(message, kind = "info", ms = 5000) {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  box.append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

/** Run an action; on failure show its error and return undefined instead of throwing. */
export async function attempt(action, success) {
  try {
    const result = await action();
    if (success) toast(success, "success");
    return result;
  } catch (err) {
    toast(err.message || String(err), "error", 8000);
    return undefined;
  }
}
