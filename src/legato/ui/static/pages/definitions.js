// Definitions: the state machines stored in the database (name, versions) and the code
// workflows the connected engines serve.

import { get } from "../api.js";
import { empty, h, link, payloadCell, table, when } from "../dom.js";

export async function render({ root, every }) {
  const machines = h("div", { id: "definitions" });
  const code = h("div", { id: "workflows" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Definitions")),
    h("section", { class: "panel flush" }, h("h2", {}, "State machines"), machines),
    h("section", { class: "panel flush" }, h("h2", {}, "Code workflows"), code));
  const load = async () => {
    const [defs, workflows] = await Promise.all([get("/v1/definitions"), get("/v1/workflows")]);
    machines.replaceChildren(defs.items.length ? table([
      { title: "Name", cell: (d) => link(`/definitions/${encodeURIComponent(d.name)}`, d.name) },
      { title: "Latest version", cell: (d) => d.latest_version },
      { title: "Versions", cell: (d) => d.versions.join(", ") },
      { title: "First stored", cell: (d) => when(d.created_at) },
      { title: "", cell: (d) => link(`/executions?workflow=${encodeURIComponent(d.name)}`, "executions →") },
    ], defs.items) : empty("No state machine is stored yet (legato definitions push FILE)."));
    const byName = new Map();
    for (const w of workflows.items.filter((one) => one.kind !== "state_machine")) {
      if (!byName.has(w.name)) byName.set(w.name, []);
      byName.get(w.name).push(w);
    }
    const grouped = [...byName.entries()].map(([name, all]) => ({ name, all, latest: all[all.length - 1] }));
    code.replaceChildren(grouped.length ? table([
      { title: "Name", cell: (g) => h("strong", {}, g.name) },
      { title: "Versions", cell: (g) => g.all.map((w) => w.version).join(", ") },
      { title: "Arguments (JSON Schema)", class: "wide", cell: (g) => payloadCell(g.latest.args_schema) },
      { title: "Code hash", cell: (g) => h("code", { title: g.latest.code_hash }, g.latest.code_hash.slice(0, 12)) },
      { title: "", cell: (g) => link(`/executions?workflow=${encodeURIComponent(g.name)}`, "executions →") },
    ], grouped) : empty("No code workflow is served by the engines this server knows of."));
  };
  await load();
  every(load, 5000);
}
