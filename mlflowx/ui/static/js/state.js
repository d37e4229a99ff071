// Preferences the UI remembers in this browser (localStorage), e.g. the chosen columns of
// an experiment's runs table. Every key lives under "mlflowx." and holds JSON.
const PREFIX = "mlflowx.";

export const prefs = {
  get(key, fallback) {
    try {
      const raw = localStorage.getItem(PREFIX + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(PREFIX + key, JSON.stringify(value));
    } catch {} // private mode or a full quota: the UI works, it just forgets
  },
  remove(key) {
    try {
      localStorage.removeItem(PREFIX + key);
    } catch {}
  },
};
