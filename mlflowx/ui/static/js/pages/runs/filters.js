// The runs page's filter bar: the search DSL box (errors shown at their token) and the quick
// filters (status, user, start time), composed into one filter string for runs/search.

export const STATUSES = ["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED"];
export const TIME_WINDOWS = [
  ["", "Any time"],
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
];
const WINDOW_MS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };
export const TOP_LEVEL = "tags.mlflow.parentRunId IS NULL";

const quote = (s) => `'${String(s).replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;

/**
 * The filter sent to the server: the typed DSL first (so that an error's position points into
 * it), then the quick filters, AND-ed (the DSL has no OR).
 */
export function composeFilter({ dsl, status, user, time, topLevel }, now = Date.now()) {
  const parts = [];
  if (dsl && dsl.trim()) parts.push(dsl.trim());
  if (status) parts.push(`attributes.status = ${quote(status)}`);
  if (user) parts.push(`attributes.user_id = ${quote(user)}`);
  if (time && WINDOW_MS[time]) parts.push(`attributes.start_time >= ${Math.floor(now - WINDOW_MS[time])}`);
  if (topLevel) parts.push(TOP_LEVEL);
  return parts.join(" AND ");
}

/**
 * Where a search error points in the typed DSL: {start, end} of the token at the position the
 * server names ("... at position 17 in filter '...'"), or null when it points elsewhere.
 */
export function errorSpan(message, dsl) {
  const m = /at position (\d+)/.exec(message || "");
  const text = (dsl || "").trim();
  if (!m || !text) return null;
  const start = Number(m[1]);
  if (start > text.length) return null;
  let end = start;
  if (text[start] === "'" || text[start] === '"' || text[start] === "`") {
    const close = text.indexOf(text[start], start + 1);
    end = close === -1 ? text.length : close + 1;
  } else {
    while (end < text.length && !/\s/.test(text[end])) end++;
  }
  return { start, end: Math.max(end, start + 1) };
}
