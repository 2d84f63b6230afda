// A code workflow's timeline, read from its history: one bar per step (its attempts and
// retries), timer, child execution and external task, and a mark per signal, on one time axis.

import { duration, h } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// The spans of a history: [{kind, label, start, end|null, state, detail}].
export function spans(events) {
  const byRef = new Map();
  const out = [];
  const open = (kind, e, label, detail) => {
    const span = { kind, label, start: e.ts, end: null, state: "running", detail, retries: 0 };
    byRef.set(`${kind}:${e.ref}`, span);
    out.push(span);
  };
  const close = (kind, e, state, detail) => {
    const span = byRef.get(`${kind}:${e.ref}`);
    if (!span) return;
    span.end = e.ts;
    span.state = state;
    if (detail) span.detail = detail;
  };
  for (const e of events) {
    const meta = e.meta || {};
    switch (e.type) {
      case "StepScheduled": open("step", e, e.name, `queue ${meta.queue || "default"}`); break;
      case "StepRetryScheduled": {
        const span = byRef.get(`step:${e.ref}`);
        if (span) {
          span.retries += 1;
          span.detail = `attempt ${meta.attempt} failed: ${meta.error_type}: ${meta.message || ""}`;
        }
        break;
      }
      case "StepCompleted": {
        const span = byRef.get(`step:${e.ref}`);
        close("step", e, span && span.retries ? "retried" : "succeeded", `attempt ${meta.attempt}`);
        break;
      }
      case "StepFailed": close("step", e, "failed", `${meta.error_type}: ${meta.message || ""}`); break;
      case "TimerStarted": open("timer", e, e.name || "timer", meta.fire_at ? `fires ${new Date(meta.fire_at).toLocaleString()}` : ""); break;
      case "TimerFired": close("timer", e, "succeeded"); break;
      case "ChildScheduled":
        open("child", e, `${e.name} → ${meta.child_id}`, meta.wait ? "waited for" : "not waited for");
        byRef.get(`child:${e.ref}`).waits = !!meta.wait;
        byRef.get(`child:${e.ref}`).child = meta.child_id;
        break;
      case "ChildStarted": {
        const span = byRef.get(`child:${e.ref}`);
        if (span && !span.waits) close("child", e, "succeeded", "started (not waited for)");
        break;
      }
      case "ChildCompleted": close("child", e, "succeeded"); break;
      case "ChildFailed": close("child", e, "failed", `${meta.error_type}: ${meta.message || ""}`); break;
      case "ExternalTaskStarted": open("external", e, e.name || "external task", ""); break;
      case "ExternalTaskCompleted": close("external", e, "succeeded"); break;
      case "ExternalTaskFailed": close("external", e, "failed", `${meta.error_type || ""}: ${meta.message || ""}`); break;
      case "SignalReceived":
        out.push({ kind: "signal", label: e.name, start: e.ts, end: e.ts, state: "signal", detail: "signal received" });
        break;
      default:
        break;
    }
  }
  return out;
}

const ROW = 26;
const LEFT = 220;
const WIDTH = 900;

const MOST = 200; // spans drawn; the history below has them all

export function timeline(events, closedAt) {
  const all = spans(events);
  if (!all.length) return h("p", { class: "empty" }, "No steps, timers, signals or children yet.");
  const items = all.slice(0, MOST);
  const t0 = events[0].ts;
  const tEnd = Math.max(closedAt || Date.now(), ...items.map((i) => i.end || i.start), t0 + 1);
  const scale = (WIDTH - LEFT - 20) / (tEnd - t0);
  const x = (t) => LEFT + (t - t0) * scale;
  const height = items.length * ROW + 30;
  const svg = s("svg", { class: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, width: "100%", role: "img", "aria-label": "timeline" });
  for (let i = 0; i <= 4; i += 1) {
    const t = t0 + ((tEnd - t0) * i) / 4;
    svg.append(s("line", { x1: x(t), x2: x(t), y1: 0, y2: height - 20, class: "tick" }),
      s("text", { x: x(t), y: height - 6, class: "tick-label", "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" },
        `+${duration(t - t0) || "0 ms"}`));
  }
  items.forEach((item, i) => {
    const y = i * ROW + 4;
    const row = s("g", { class: `span k-${item.kind} s-${item.state}`, "data-kind": item.kind, "data-name": item.label });
    const label = s("text", { x: 8, y: y + 15, class: "span-label" }, `${item.kind === "step" ? "" : `${item.kind} `}${item.label}`);
    row.append(item.child ? s("a", { href: `/executions/${encodeURIComponent(item.child)}`, "data-nav": "" }, label) : label);
    if (item.kind === "signal") {
      row.append(s("circle", { cx: x(item.start), cy: y + 10, r: 6 }));
    } else {
      const end = item.end ?? Date.now();
      row.append(s("rect", { x: x(item.start), y: y + 3, width: Math.max(3, x(end) - x(item.start)), height: 14, rx: 3 }));
    }
    const took = item.end ? duration(item.end - item.start) : "running";
    row.append(s("title", {}, `${item.label}: ${item.state}${item.retries ? ` after ${item.retries} retr${item.retries > 1 ? "ies" : "y"}` : ""}, ${took}${item.detail ? `\n${item.detail}` : ""}`));
    svg.append(row);
  });
  if (all.length === items.length) return svg;
  return h("div", {}, svg, h("p", { class: "muted" }, `The first ${MOST} of ${all.length}: the history below has every event.`));
}
