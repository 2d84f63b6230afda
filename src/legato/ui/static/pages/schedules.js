// Schedules with their next fire times.

import { get, post, seg } from "../api.js";
import { empty, h, link, localTime, relative, table, when } from "../dom.js";

function spec(s) {
  if (s.cron) return h("span", {}, h("code", {}, s.cron), s.timezone ? h("span", { class: "muted" }, ` ${s.timezone}`) : null);
  if (s.interval_seconds) return `every ${s.interval_seconds} s`;
  return "";
}

function nextTimes(s) {
  const times = s.next_fire_times || [];
  if (s.paused) return h("span", { class: "badge st-SUSPENDED" }, "paused");
  if (!times.length) return h("span", { class: "muted" }, "none");
  return h("div", { class: "next" },
    h("div", {}, h("strong", {}, relative(times[0])), h("span", { class: "muted" }, ` — ${localTime(times[0])}`)),
    times.length > 1 ? h("ul", { class: "later" }, times.slice(1).map((t) => h("li", {}, localTime(t)))) : null);
}

export async function render({ root, every }) {
  const body = h("div", { id: "schedules" });
  const flash = h("div", { class: "flash", role: "status" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Schedules")), flash,
    h("section", { class: "panel flush" }, body));
  const act = (s, what) => async () => {
    try {
      const done = await post(`/v1/schedules/${seg(s.name)}/${what}`);
      flash.className = "flash ok";
      flash.replaceChildren(what === "trigger"
        ? h("span", {}, `${s.name} started `, link(`/executions/${encodeURIComponent(done.execution_id)}`, done.execution_id))
        : `${s.name} ${what === "pause" ? "paused" : "resumed"}.`);
    } catch (error) {
      flash.className = "flash bad";
      flash.textContent = `${s.name}: ${error.message}`;
    }
    await load();
  };
  const load = async () => {
    const { items } = await get("/v1/schedules");
    body.replaceChildren(items.length ? table([
      { title: "Name", cell: (s) => h("strong", {}, s.name) },
      { title: "Workflow", cell: (s) => link(`/executions?workflow=${encodeURIComponent(s.workflow)}`, s.workflow) },
      { title: "When", cell: (s) => h("div", {}, spec(s), h("div", { class: "muted" }, `overlap: ${s.overlap}`)) },
      { title: "Next fire times", cell: nextTimes },
      { title: "Runs", cell: (s) => h("div", {}, `${s.started ?? 0} started`,
        (s.running || []).map((id) => h("div", {}, "running ", link(`/executions/${encodeURIComponent(id)}`, id)))) },
      { title: "Created", cell: (s) => when(s.created_at) },
      { title: "", cell: (s) => h("span", { class: "buttons" },
        h("button", { onclick: act(s, s.paused ? "resume" : "pause"), "data-action": s.paused ? "resume" : "pause" }, s.paused ? "Resume" : "Pause"),
        h("button", { onclick: act(s, "trigger"), "data-action": "trigger", title: "Start a run now" }, "Run now")) },
    ], items) : empty("No schedule yet."));
  };
  await load();
  every(load, 5000);
}
