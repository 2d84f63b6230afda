// One state machine definition: its versions, its graph and its text.

import { get, getText, seg } from "../api.js";
import { errorBox, h, jsonView, link, panel, table, when } from "../dom.js";

const EXPORTS = [["svg", "svg", "SVG"], ["dot", "dot", "Graphviz"], ["mermaid", "mmd", "Mermaid"]];

// Fetched (with the API key, if any) and handed to the browser as a file.
async function download(name, version, format, ext) {
  const text = await getText(`/v1/definitions/${seg(name)}/graph`, { format, version }, "*/*");
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = h("a", { href: url, download: `${name}-v${version}.${ext}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function render({ root, params, query }) {
  const [name] = params;
  const version = query.get("version") || undefined;
  const [versions, shown] = await Promise.all([
    get(`/v1/definitions/${seg(name)}/versions`),
    version ? get(`/v1/definitions/${seg(name)}/versions/${seg(version)}`) : get(`/v1/definitions/${seg(name)}`),
  ]);
  const graph = h("div", { class: "graph", id: "graph" }, h("p", { class: "muted" }, "Drawing…"));
  root.replaceChildren(
    h("p", { class: "crumbs" }, link("/definitions", "Definitions"), " / ", name),
    h("div", { class: "page-head" }, h("h1", {}, name), h("span", { class: "tag" }, `version ${shown.version}`),
      link(`/executions?workflow=${seg(name)}`, "Its executions →")),
    h("section", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Graph"),
      h("span", { class: "exports" }, "Download ", EXPORTS.map(([format, ext, label]) =>
        h("button", { type: "button", "data-format": format, onclick: () => download(name, shown.version, format, ext) }, label)))),
    graph),
    h("div", { class: "columns" },
      panel("Versions", table([
        { title: "Version", cell: (v) => (v.version === shown.version ? h("strong", {}, v.version) : link(`/definitions/${seg(name)}?version=${seg(v.version)}`, v.version)) },
        { title: "Stored", cell: (v) => when(v.created_at) },
        { title: "Content hash", cell: (v) => h("code", { title: v.content_hash }, v.content_hash.slice(0, 12)) },
      ], [...versions.items].reverse(), { id: "versions" })),
      panel("Definition", jsonView(shown.definition))));
  try {
    const svg = await getText(`/v1/definitions/${seg(name)}/graph`, { format: "svg", version: shown.version }, "image/svg+xml");
    const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
    if (doc.documentElement.nodeName !== "svg") throw new Error("the graph could not be read");
    graph.replaceChildren(document.importNode(doc.documentElement, true));
  } catch (error) {
    graph.replaceChildren(errorBox(new Error(`No graph: ${error.message}`)));
  }
}
