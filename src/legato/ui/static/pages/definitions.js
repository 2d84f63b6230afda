// Definitions: the state machines stored in the database (name, versions) and the code
// workflows the connected engines serve.

import { get } from "../api.js";
import { empty, h, link, panel, table, when } from "../dom.js";

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
    const shownCode = workflows.items.filter((w) => w.kind !== "state_machine");
    code.replaceChildren(shownCode.length ? table([
      { title: "Name", cell: (w) => w.name },
      { title: "Versions", cell: (w) => (w.versions || []).map((v) => (typeof v === "object" ? v.version : v)).join(", ") },
      { title: "", cell: (w) => link(`/executions?workflow=${encodeURIComponent(w.name)}`, "executions →") },
    ], shownCode) : empty("No code workflow is served by the engines this server knows of."));
  };
  await load();
  every(load, 5000);
}
