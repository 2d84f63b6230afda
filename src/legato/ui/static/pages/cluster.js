// What is live: the engine replicas with the partitions they lease, and the workers (local
// ones in engine processes, remote ones over the HTTP API) with their steps and last heartbeat.

import { get } from "../api.js";
import { empty, h, table, when } from "../dom.js";

const where = (r) => h("span", {}, r.host || "?", r.pid ? h("span", { class: "muted" }, ` pid ${r.pid}`) : null);

export async function render({ root, every }) {
  const summary = h("p", { class: "summary" });
  const replicas = h("div", { id: "replicas" });
  const workers = h("div", { id: "workers" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Workers and replicas"), summary),
    h("div", { id: "cluster" },
      h("section", { class: "panel flush" }, h("h2", {}, "Engine replicas"), replicas),
      h("section", { class: "panel flush" }, h("h2", {}, "Workers"), workers)));
  const load = async () => {
    const c = await get("/v1/cluster");
    summary.replaceChildren(`${c.replicas.length} replica${c.replicas.length === 1 ? "" : "s"}, `,
      `${c.workers.length} worker${c.workers.length === 1 ? "" : "s"}; `,
      h("span", { class: c.partitions_held < c.partitions ? "err-text" : "" },
        `${c.partitions_held} of ${c.partitions} partitions held`));
    replicas.replaceChildren(c.replicas.length ? table([
      { title: "Replica", class: "id", cell: (r) => h("code", {}, r.id) },
      { title: "Where", cell: where },
      { title: "Partitions", cell: (r) => String(r.partitions) },
      { title: "Last heartbeat", cell: (r) => when(r.last_seen) },
    ], c.replicas) : empty("No live engine replica."));
    workers.replaceChildren(c.workers.length ? table([
      { title: "Worker", class: "id", cell: (w) => h("code", {}, w.id) },
      { title: "Kind", cell: (w) => h("span", { class: `tag kind-${w.kind}` }, w.kind) },
      { title: "Where", cell: where },
      { title: "Queues", cell: (w) => w.queues.join(", ") },
      { title: "Steps", class: "where", cell: (w) => w.steps.join(", ") },
      { title: "Last heartbeat", cell: (w) => when(w.last_seen) },
    ], c.workers) : empty("No live worker."));
  };
  await load();
  every(load);
}
