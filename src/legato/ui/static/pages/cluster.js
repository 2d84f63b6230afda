// What is live: the engines (replicas) with the partitions they hold, and the workers, local
// and remote, with when they were last seen.

import { get } from "../api.js";
import { autoTable, empty, h, titleOf } from "../dom.js";

export async function render({ root, every }) {
  const body = h("div", { id: "cluster" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Workers and replicas")), body);
  const load = async () => {
    const found = await get("/v1/cluster");
    const sections = Object.entries(found).filter(([, v]) => Array.isArray(v));
    body.replaceChildren(...sections.map(([name, rows]) => h("section", { class: "panel flush", "data-section": name },
      h("h2", {}, `${titleOf(name)} (${rows.length})`),
      rows.length ? autoTable(rows, { first: ["id", "owner", "name", "kind"] }) : empty(`No live ${name}.`))));
  };
  await load();
  every(load);
}
