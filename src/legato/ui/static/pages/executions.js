// The executions list: filters (status, workflow, label, started time), go to an id,
// status colours, cursor paging and live refresh. The filters live in the URL.

import { get } from "../api.js";
import {
  STATUSES, badge, chips, duration, empty, errorBox, h, link, localTime, panel, table, toDate, when,
} from "../dom.js";

const PAGE_SIZE = 50;
const SINCE = { "": "any time", "15m": "last 15 min", "1h": "last hour", "24h": "last 24 h", "7d": "last 7 days", custom: "between…" };
const SINCE_MS = { "15m": 9e5, "1h": 36e5, "24h": 864e5, "7d": 6048e5 };

function filtersOf(query) {
  return {
    status: query.get("status") || "",
    workflow: query.get("workflow") || "",
    label: query.get("label") || "",
    since: query.get("since") || "",
    from: query.get("from") || "",
    to: query.get("to") || "",
    cursor: query.get("cursor") || "",
  };
}

function apiQuery(f) {
  const labels = f.label.split(/[\s,]+/).filter(Boolean);
  const query = { status: f.status, workflow: f.workflow, label: labels, limit: PAGE_SIZE, cursor: f.cursor };
  if (SINCE_MS[f.since]) query.started_after = new Date(Date.now() - SINCE_MS[f.since]).toISOString();
  if (f.since === "custom") {
    if (f.from) query.started_after = new Date(f.from).toISOString();
    if (f.to) query.started_before = new Date(f.to).toISOString();
  }
  return query;
}

function urlOf(f) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) params.set(k, v);
  const text = params.toString();
  return `/executions${text ? `?${text}` : ""}`;
}

function closedIn(e) {
  const start = toDate(e.created_at);
  const end = toDate(e.closed_at);
  return start && end ? duration(end - start) : "";
}

function rows(items) {
  const columns = [
    { title: "Execution", class: "id", cell: (e) => link(`/executions/${encodeURIComponent(e.id)}`, e.id) },
    { title: "Status", cell: (e) => badge(e.status) },
    { title: "Workflow", cell: (e) => h("span", {}, e.workflow, h("span", { class: "muted" }, ` v${e.version}`)) },
    { title: "Labels", cell: (e) => chips(e.labels) },
    { title: "Started", cell: (e) => h("span", { class: "stamp" }, localTime(e.created_at), h("span", { class: "muted" }, when(e.created_at))) },
    { title: "Took", cell: (e) => (e.closed_at ? closedIn(e) : h("span", { class: "muted" }, "open")) },
    {
      title: "Where",
      class: "where",
      cell: (e) => (e.error
        ? h("span", { class: "err-text" }, `${e.error.type}${e.error.message ? `: ${e.error.message}` : ""}`)
        : (e.closed_at ? e.reason : e.current_step || e.reason) || ""),
    },
  ];
  return table(columns, items.map((e) => Object.assign(e, { __attrs: { "data-id": e.id, "data-status": e.status } })),
    { id: "executions" });
}

async function known() {
  const [workflows, definitions] = await Promise.allSettled([get("/v1/workflows"), get("/v1/definitions")]);
  const names = new Set();
  for (const found of [workflows, definitions]) {
    if (found.status === "fulfilled") for (const w of found.value.items) names.add(w.name);
  }
  return [...names].sort();
}

export async function render({ root, query, navigate, every }) {
  const f = filtersOf(query);
  const field = (name, control) => h("label", {}, h("span", {}, name), control);
  const status = h("select", { name: "status" },
    h("option", { value: "" }, "any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === f.status }, s.replace("_", " ").toLowerCase())));
  const workflow = h("input", { name: "workflow", list: "workflow-names", value: f.workflow, placeholder: "any workflow" });
  const names = h("datalist", { id: "workflow-names" });
  const label = h("input", { name: "label", value: f.label, placeholder: "key=value, …" });
  const since = h("select", { name: "since" },
    Object.entries(SINCE).map(([v, t]) => h("option", { value: v, selected: v === f.since }, t)));
  const from = h("input", { type: "datetime-local", name: "from", value: f.from, step: 1 });
  const to = h("input", { type: "datetime-local", name: "to", value: f.to, step: 1 });
  const range = h("span", { class: "range", hidden: f.since !== "custom" }, from, " – ", to);
  since.addEventListener("change", () => { range.hidden = since.value !== "custom"; });
  const apply = (event) => {
    event?.preventDefault();
    navigate(urlOf({
      status: status.value, workflow: workflow.value.trim(), label: label.value.trim(),
      since: since.value, from: since.value === "custom" ? from.value : "",
      to: since.value === "custom" ? to.value : "", cursor: "",
    }));
  };
  status.addEventListener("change", apply);
  const idInput = h("input", { name: "id", placeholder: "execution id", class: "mono", size: 28 });
  const goTo = h("form", {
    class: "search",
    role: "search",
    onsubmit: (event) => {
      event.preventDefault();
      const id = idInput.value.trim();
      if (id) navigate(`/executions/${encodeURIComponent(id)}`);
    },
  }, idInput, h("button", {}, "Open"));

  const form = h("form", { class: "filters", onsubmit: apply },
    field("Status", status), field("Workflow", workflow), names, field("Labels", label),
    field("Started", h("span", {}, since, range)),
    h("div", { class: "buttons" }, h("button", { class: "primary" }, "Filter"),
      h("a", { href: "/executions", "data-nav": true, class: "button" }, "Clear")));
  const body = h("div", { id: "list" }, h("p", { class: "muted" }, "Loading…"));
  const pager = h("nav", { class: "pager" });
  root.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Executions"), goTo),
    panel(null, form),
    h("section", { class: "panel flush" }, body, pager),
  );
  known().then((all) => names.replaceChildren(...all.map((n) => h("option", { value: n }))));

  const load = async () => {
    let page;
    try {
      page = await get("/v1/executions", apiQuery(f));
    } catch (error) {
      body.replaceChildren(errorBox(error));
      return;
    }
    body.replaceChildren(page.items.length ? rows(page.items) : empty("No execution matches these filters."));
    pager.replaceChildren(
      f.cursor ? link(urlOf({ ...f, cursor: "" }), "← Newest") : h("span"),
      h("span", { class: "muted" }, `${page.items.length} shown${f.cursor ? " (older page)" : ""}`),
      page.next_cursor ? link(urlOf({ ...f, cursor: page.next_cursor }), "Older →") : h("span"),
    );
  };
  await load();
  every(load);
}
