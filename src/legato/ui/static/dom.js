// Building blocks of every page: elements, status badges, times, durations, JSON views.
// Text always goes in as text (never as HTML), so nothing an execution holds can run here.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function link(href, ...children) {
  return h("a", { href, "data-nav": true }, ...children);
}

export const STATUSES = [
  "PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT", "TERMINATED",
];
export const OPEN = new Set(["PENDING", "RUNNING", "SUSPENDED"]);

export function badge(status) {
  const text = String(status || "").replace("_", " ").toLowerCase();
  return h("span", { class: `badge st-${status}`, "data-status": status }, text);
}

export function chips(labels) {
  const pairs = Object.entries(labels || {});
  if (!pairs.length) return null;
  return h("span", { class: "chips" }, pairs.map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`)));
}

// --- time ---------------------------------------------------------------------------------

const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
});

export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function localTime(value) {
  const date = toDate(value);
  return date ? LOCAL.format(date) : "";
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  const s = abs / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function relative(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return "";
  const delta = date.getTime() - now;
  if (Math.abs(delta) < 1500) return "now";
  return delta < 0 ? `${duration(-delta)} ago` : `in ${duration(delta)}`;
}

// A time shown relative ("3 min ago"), with the local time and zone on hover.
export function when(value) {
  const date = toDate(value);
  if (!date) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: date.toISOString(), title: LOCAL.format(date) }, relative(date));
}

// --- JSON -----------------------------------------------------------------------------------

function preview(value) {
  const text = JSON.stringify(value);
  return text.length > 90 ? `${text.slice(0, 90)}…` : text;
}

function scalar(value) {
  if (value === null) return h("span", { class: "j-null" }, "null");
  switch (typeof value) {
    case "string": return h("span", { class: "j-str" }, JSON.stringify(value));
    case "number": return h("span", { class: "j-num" }, String(value));
    case "boolean": return h("span", { class: "j-bool" }, String(value));
    default: return h("span", {}, String(value));
  }
}

function tree(value, depth) {
  if (value === null || typeof value !== "object") return scalar(value);
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (!entries.length) return h("span", { class: "j-punct" }, open + close);
  const body = h("div", { class: "j-body" }, entries.map(([k, v]) =>
    h("div", { class: "j-row" },
      Array.isArray(value) ? null : h("span", { class: "j-key" }, JSON.stringify(String(k)), ": "),
      tree(v, depth + 1))));
  return h("details", { class: "j-node", open: depth < 2 },
    h("summary", {}, h("span", { class: "j-punct" }, open),
      h("span", { class: "j-sum" }, ` ${entries.length} ${Array.isArray(value) ? "items" : "keys"} `),
      h("span", { class: "j-punct j-shut" }, close)),
    body, h("span", { class: "j-punct j-end" }, close));
}

// A JSON value, pretty and collapsible (nested objects open two levels deep).
export function jsonView(value) {
  return h("div", { class: "json" }, tree(value === undefined ? null : value, 0));
}

// A <details> whose content is built when first opened: a long history stays cheap to draw.
export function lazyDetails(attrs, summary, build) {
  const box = h("details", attrs, h("summary", {}, summary));
  let built = false;
  const fill = () => {
    if (built || !box.open) return;
    built = true;
    append(box, [build()]);
  };
  box.addEventListener("toggle", fill);
  fill();
  return box;
}

// A payload in a table cell: a one-line preview that opens into the full view.
export function payloadCell(value) {
  if (value === undefined || value === null) return h("span", { class: "muted" }, "—");
  if (typeof value !== "object") return h("code", { class: "inline" }, preview(value));
  return lazyDetails({ class: "payload" }, h("code", {}, preview(value)), () => jsonView(value));
}

export function panel(title, ...children) {
  return h("section", { class: "panel" }, title ? h("h2", {}, title) : null, ...children);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

export function errorBox(error) {
  return h("div", { class: "error-box", role: "alert" }, error.message || String(error));
}

// A table from rows and columns [{title, cell(row), class?}].
export function table(columns, rows, attrs = {}) {
  return h("table", { class: "grid", ...attrs },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.class }, c.title)))),
    h("tbody", {}, rows.map((row) => h("tr", row.__attrs || {},
      columns.map((c) => h("td", { class: c.class }, c.cell(row)))))));
}
