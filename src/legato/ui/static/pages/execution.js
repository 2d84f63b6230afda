// One execution, at /executions/{id}: what it is, its actions, its graph (a state machine:
// states coloured by what happened, redrawn live) or its timeline (a code workflow), its input,
// output and error, and its history with collapsible payloads.

import { ApiError, get, getText, post, seg } from "../api.js";
import {
  OPEN, badge, chips, duration, empty, errorBox, h, jsonView, lazyDetails, link, localTime, panel,
  toDate, when,
} from "../dom.js";
import { timeline } from "./timeline.js";

const REDRIVABLE = new Set(["FAILED", "CANCELLED", "TIMED_OUT"]);

function facts(e, events) {
  const start = toDate(e.created_at);
  const end = toDate(e.closed_at);
  const rows = [
    ["Workflow", e.kind === "state_machine"
      ? link(`/definitions/${seg(e.workflow)}?version=${seg(e.version)}`, e.workflow)
      : link(`/executions?workflow=${seg(e.workflow)}`, e.workflow)],
    ["Version", e.version],
    ["Kind", e.kind === "state_machine" ? "state machine" : e.kind === "code" ? "code workflow" : "unknown"],
    ["Started", h("span", {}, localTime(e.created_at), " (", when(e.created_at), ")")],
    ["Closed", e.closed_at ? h("span", {}, localTime(e.closed_at), ` — took ${duration(end - start)}`) : h("span", { class: "muted" }, "still open")],
    ["Updated", when(e.updated_at)],
  ];
  const parent = events.length && events[0].meta ? events[0].meta.parent_id : null;
  if (parent) rows.push(["Parent", link(`/executions/${seg(parent)}`, h("span", { class: "mono" }, parent))]);
  if (e.current_step) rows.push([OPEN.has(e.status) ? "Current step" : "Last step", e.current_step]);
  if (e.reason) rows.push(["Reason", e.reason]);
  if (Object.keys(e.labels || {}).length) rows.push(["Labels", chips(e.labels)]);
  if (e.started_by) rows.push(["Started by", Object.entries(e.started_by).map(([k, v]) => `${k}: ${v}`).join(", ")]);
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function dialog(title, fields, submit) {
  const box = h("dialog", { class: "dialog" });
  const problem = h("p", { class: "err-text" });
  const form = h("form", {
    method: "dialog",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        await submit(form);
        box.close();
        box.remove();
      } catch (error) {
        problem.textContent = error.message;
      }
    },
  }, h("h2", {}, title), fields, problem,
  h("div", { class: "buttons" },
    h("button", { type: "button", onclick: () => { box.close(); box.remove(); } }, "Close"),
    h("button", { class: "primary", type: "submit" }, title)));
  box.append(form);
  document.body.append(box);
  box.showModal();
  return box;
}

function actions(e, path, refresh, flash) {
  const act = async (what, body, done) => {
    try {
      await post(`${path}/${what}`, body);
      flash(done, "ok");
    } catch (error) {
      flash(error.message, "bad");
    }
    await refresh(true);
  };
  const withReason = (what, label) => () => dialog(label, [
    h("p", {}, what === "terminate"
      ? "Terminate ends the execution at once: no more of its code runs."
      : "Cancel asks the execution to stop: its code sees Cancelled and may clean up."),
    h("label", { class: "stack" }, "Reason (optional)", h("input", { name: "reason", size: 50 })),
  ], async (form) => act(what, { reason: form.elements.reason.value || null },
    what === "terminate" ? "Terminated." : "Cancellation requested: its code sees Cancelled."));
  const signal = () => dialog("Send signal", [
    h("label", { class: "stack" }, "Signal name", h("input", { name: "name", required: true, size: 40 })),
    h("label", { class: "stack" }, "Payload (JSON, optional)", h("textarea", { name: "payload", rows: 5, cols: 50, class: "mono" })),
  ], async (form) => {
    const text = form.elements.payload.value.trim();
    let payload = null;
    if (text) {
      try {
        payload = JSON.parse(text);
      } catch (error) {
        throw new Error(`the payload is not JSON: ${error.message}`);
      }
    }
    const name = form.elements.name.value.trim();
    await act(`signals/${seg(name)}`, { payload }, `Signal "${name}" sent.`);
  });
  const open = OPEN.has(e.status);
  return h("div", { class: "actions" },
    h("button", { onclick: signal, disabled: !open, "data-action": "signal" }, "Signal…"),
    h("button", { onclick: withReason("cancel", "Cancel"), disabled: !open, "data-action": "cancel" }, "Cancel…"),
    h("button", { onclick: withReason("terminate", "Terminate"), disabled: !open, class: "danger", "data-action": "terminate" }, "Terminate…"),
    h("button", { onclick: () => act("redrive", undefined, "Redriven: it goes on from where it failed."), disabled: !REDRIVABLE.has(e.status), class: "primary", "data-action": "redrive", title: "Continue from where it failed, with the code now registered" }, "Redrive"),
    h("button", { onclick: () => act("resume", undefined, "Resumed with the code now running."), disabled: e.status !== "SUSPENDED", "data-action": "resume", title: "Retry a suspended execution with the code now running" }, "Resume"));
}

function failure(e, events) {
  if (!e.error) return null;
  const failed = [...events].reverse().find((ev) => ev.type === "ExecutionFailed" || ev.type === "StepFailed");
  const trace = failed && failed.meta && failed.meta.traceback;
  return h("section", { class: "panel error-panel", id: "error" },
    h("h2", {}, "Error"),
    h("p", {}, h("strong", {}, e.error.type), e.error.message ? `: ${e.error.message}` : ""),
    trace ? h("details", {}, h("summary", {}, "Traceback"), h("pre", { class: "trace" }, trace)) : null);
}

const EVENT_CLASS = {
  Failed: "ev-bad", TimedOut: "ev-bad", Terminated: "ev-bad", RetryScheduled: "ev-warn",
  Completed: "ev-good", Cancelled: "ev-warn", Suspended: "ev-warn", Redriven: "ev-info", Resumed: "ev-info",
};

function eventClass(type) {
  const found = Object.keys(EVENT_CLASS).find((end) => type.endsWith(end));
  return found ? EVENT_CLASS[found] : "";
}

// The state each event happened in: from a StateEntered to its StateExited (a state
// machine's events; in a Parallel's branches, the one entered last).
function statesOf(events) {
  const open = [];
  return events.map((ev) => {
    if (ev.type === "StateEntered") {
      const again = open.indexOf(ev.name); // entered again (a redrive, a retry of a branch)
      if (again >= 0) open.splice(again, 1);
      open.push(ev.name);
    }
    const state = open.length ? open[open.length - 1] : null;
    if (ev.type === "StateExited") {
      const at = open.lastIndexOf(ev.name);
      if (at >= 0) open.splice(at, 1);
      return ev.name;
    }
    return state;
  });
}

function historyTable(events, openSeqs) {
  if (!events.length) return empty("No events yet.");
  const t0 = events[0].ts;
  const states = statesOf(events);
  const rows = events.map((ev, i) => {
    const meta = Object.fromEntries(Object.entries(ev.meta || {}).filter(([k]) => k !== "traceback"));
    const hasMeta = Object.keys(meta).length > 0;
    const details = ev.payload !== null || hasMeta
      ? lazyDetails({ class: "payload", open: openSeqs.has(ev.seq), "data-seq": ev.seq },
        h("code", {}, JSON.stringify(ev.payload ?? meta).slice(0, 100)),
        () => [
          ev.payload !== null ? h("div", {}, h("div", { class: "sub" }, "payload"), jsonView(ev.payload)) : null,
          hasMeta ? h("div", {}, h("div", { class: "sub" }, "details"), jsonView(meta)) : null,
          ev.meta && ev.meta.traceback ? h("pre", { class: "trace" }, ev.meta.traceback) : null,
        ])
      : h("span", { class: "muted" }, "—");
    return h("tr", { "data-type": ev.type, "data-state": states[i] ?? undefined },
      h("td", { class: "num" }, ev.seq),
      h("td", { class: "num", title: localTime(ev.ts) }, `+${duration(ev.ts - t0) || "0 ms"}`),
      h("td", {}, h("span", { class: `ev ${eventClass(ev.type)}` }, ev.type)),
      h("td", {}, ev.name ?? ""),
      h("td", { class: "num" }, ev.ref ?? ""),
      h("td", { class: "wide" }, details));
  });
  return h("table", { class: "grid history", id: "history" },
    h("thead", {}, h("tr", {}, ["#", "At", "Event", "Name", "Ref", "Payload"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows));
}

export async function render({ root, params, every, current }) {
  const [id] = params;
  const path = `/v1/executions/${seg(id)}`;
  let e;
  try {
    e = await get(path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Execution not found")),
        panel(null, h("p", {}, "No execution with the id ", h("code", {}, id), " was found."),
          h("p", { class: "muted" }, error.message), link("/executions", "← All executions")));
      return;
    }
    throw error;
  }
  const flashBox = h("div", { class: "flash", role: "status" });
  const flash = (text, tone) => {
    flashBox.textContent = text;
    flashBox.className = `flash ${tone}`;
  };
  const head = h("div", { class: "page-head" });
  const factsBox = h("section", { class: "panel" });
  const errorSlot = h("div");
  const picture = h("section", { class: "panel", id: "picture" });
  const graphBox = h("div", { class: "graph", id: "graph" });
  const io = h("div", { class: "columns" });
  const historyBox = h("section", { class: "panel flush" });
  root.replaceChildren(h("p", { class: "crumbs" }, link("/executions", "Executions"), " / ", h("span", { class: "mono" }, id)),
    head, flashBox, factsBox, errorSlot, picture, io, historyBox);

  // a click on a state of the graph shows only the history of that state
  let only = null;
  const onlyBar = h("div", { class: "only-bar", hidden: true });
  const showOnly = (state) => {
    only = state;
    for (const row of historyBox.querySelectorAll("#history tbody tr")) {
      row.hidden = only !== null && row.dataset.state !== only;
    }
    for (const g of graphBox.querySelectorAll("g.state")) g.classList.toggle("selected", g.dataset.state === only);
    onlyBar.hidden = only === null;
    onlyBar.replaceChildren("Events of state ", h("strong", {}, only ?? ""), " ",
      h("button", { type: "button", onclick: () => showOnly(null) }, "Show all"));
  };
  graphBox.addEventListener("click", (event) => {
    const g = event.target.closest("g.state");
    if (g && !g.classList.contains("group")) showOnly(g.dataset.state === only ? null : g.dataset.state);
  });

  let shown = "";
  let graphText = "";
  const draw = async (events) => {
    if (e.kind === "state_machine") {
      if (!picture.firstChild) picture.append(h("h2", {}, "Graph"), graphBox); // the SVG has its legend
      try {
        const svg = await getText(`${path}/graph`, { format: "svg" }, "image/svg+xml");
        if (svg !== graphText) {
          graphText = svg;
          const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
          const el = doc.documentElement;
          if (el && el.nodeName === "svg") {
            graphBox.replaceChildren(document.importNode(el, true));
            showOnly(only);
          } else {
            graphBox.replaceChildren(errorBox(new Error("the graph could not be read")));
          }
        }
      } catch (error) {
        graphBox.replaceChildren(errorBox(new Error(`No graph: ${error.message}`)));
      }
    } else {
      picture.replaceChildren(h("h2", {}, "Timeline"), timeline(events, toDate(e.closed_at)?.getTime()));
    }
  };

  const refresh = async (force = false) => {
    if (force) e = await get(path);
    const stamp = `${e.status}|${e.updated_at}`;
    if (stamp === shown && !force) return;
    const { events } = await get(`${path}/history`);
    if (!current()) return;
    shown = stamp;
    head.replaceChildren(h("h1", { class: "mono" }, id), badge(e.status), actions(e, path, refresh, flash));
    factsBox.replaceChildren(h("h2", {}, "Overview"), facts(e, events));
    errorSlot.replaceChildren(failure(e, events) || "");
    await draw(events);
    io.replaceChildren(
      panel("Input", e.input === null || e.input === undefined ? empty("No input.") : jsonView(e.input)),
      panel("Output", e.status === "COMPLETED" ? jsonView(e.output) : empty(OPEN.has(e.status) ? "Not finished yet." : "No output.")),
    );
    const openSeqs = new Set([...historyBox.querySelectorAll("details[data-seq][open]")].map((d) => Number(d.dataset.seq)));
    historyBox.replaceChildren(h("h2", {}, `History (${events.length} events)`), onlyBar, historyTable(events, openSeqs));
    showOnly(only);
  };
  await refresh();
  every(async () => {
    e = await get(path);
    await refresh();
  }, 1500);
}
