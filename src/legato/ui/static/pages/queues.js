// Task queues: how many tasks wait, and how long the oldest ready one has waited.

import { get } from "../api.js";
import { autoTable, duration, empty, h } from "../dom.js";

function age(q) {
  const seconds = q.oldest_ready_age_seconds ?? q.oldest_age_seconds ?? q.oldest_task_age_seconds;
  if (seconds === null || seconds === undefined) return h("span", { class: "muted" }, "—");
  return h("span", { class: seconds > 60 ? "err-text" : "" }, duration(seconds * 1000));
}

export async function render({ root, every }) {
  const body = h("div", { id: "queues" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Queues")),
    h("section", { class: "panel flush" }, body));
  const load = async () => {
    const found = await get("/v1/queues");
    const items = Array.isArray(found) ? found : found.items || found.queues || [];
    body.replaceChildren(items.length
      ? autoTable(items, { first: ["name", "depth", "running"], link: { oldest_ready_age_seconds: age, oldest_age_seconds: age } })
      : empty("No queue has tasks."));
  };
  await load();
  every(load);
}
