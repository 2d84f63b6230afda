// Task queues: the tasks that could start now (depth), how long the oldest of them has
// waited, what runs, what waits for later, and the live workers serving each queue.

import { get } from "../api.js";
import { duration, empty, h, table } from "../dom.js";

const SLOW_SECONDS = 60; // an oldest ready task older than this is shown as a warning

function age(q) {
  if (!q.depth) return h("span", { class: "muted" }, "—");
  const text = duration(q.oldest_ready_age_seconds * 1000);
  return h("span", { class: q.oldest_ready_age_seconds > SLOW_SECONDS ? "err-text" : "" }, text);
}

export async function render({ root, every }) {
  const body = h("div", { id: "queues" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Queues")),
    h("section", { class: "panel flush" }, body));
  const load = async () => {
    const { queues } = await get("/v1/queues");
    body.replaceChildren(queues.length ? table([
      { title: "Queue", cell: (q) => h("strong", {}, q.name) },
      { title: "Depth (ready)", class: "num-strong", cell: (q) => String(q.depth) },
      { title: "Oldest ready task waited", cell: age },
      { title: "Running", class: "num-strong", cell: (q) => String(q.running) },
      { title: "Scheduled later", class: "num-strong", cell: (q) => String(q.scheduled) },
      { title: "Workers", class: "num-strong", cell: (q) => (q.workers
        ? String(q.workers) : h("span", { class: "err-text", title: "no live worker serves it" }, "0")) },
    ], queues.map((q) => Object.assign(q, { __attrs: { "data-queue": q.name } })))
      : empty("No queue has tasks or workers."));
  };
  await load();
  every(load);
}
