// Dead letters: what could not be acted on (an event a filter or transform failed on), with
// the reason, and a redrive that sends it through its subscription again.

import { get, post, seg } from "../api.js";
import { empty, h, link, payloadCell, table, when } from "../dom.js";

// The body as received is text: shown as the JSON it holds, when it is JSON.
function parsed(body) {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export async function render({ root, query, every }) {
  const cursor = query.get("cursor") || undefined;
  const body = h("div", { id: "dead-letters" });
  const flash = h("div", { class: "flash", role: "status" });
  const pager = h("nav", { class: "pager" });
  root.replaceChildren(h("div", { class: "page-head" }, h("h1", {}, "Dead letters")), flash,
    h("section", { class: "panel flush" }, body, pager));
  const redrive = (d) => async () => {
    try {
      const done = await post(`/v1/dead-letters/${seg(d.id)}/redrive`);
      const started = done.redriven_to || [];
      flash.className = "flash ok";
      flash.textContent = `Dead letter ${d.id} redriven${started.length ? `: started ${started.join(", ")}` : ""}.`;
    } catch (error) {
      flash.className = "flash bad";
      flash.textContent = `Dead letter ${d.id}: ${error.message}`;
    }
    await load();
  };
  const load = async () => {
    const page = await get("/v1/dead-letters", { cursor });
    body.replaceChildren(page.items.length ? table([
      { title: "Received", cell: (d) => when(d.received_at) },
      { title: "Via", cell: (d) => d.via },
      { title: "Subscription", cell: (d) => d.subscription || "" },
      { title: "Event", cell: (d) => (d.event_id ? h("code", {}, `${d.event_source || ""} ${d.event_id}`) : "") },
      { title: "Reason", class: "where", cell: (d) => h("span", { class: "err-text" }, d.reason) },
      { title: "Body", class: "wide", cell: (d) => payloadCell(parsed(d.body)) },
      { title: "", cell: (d) => (d.redriven_at
        ? h("span", { class: "redriven" }, h("span", { class: "muted" }, "redriven "), when(d.redriven_at),
          (d.redriven_to || []).map((id) => h("div", {}, link(`/executions/${encodeURIComponent(id)}`, id))))
        : h("button", { onclick: redrive(d), "data-action": "redrive", title: "Ingest its event again, through its subscription as it is now" }, "Redrive")) },
    ], page.items) : empty("No dead letters: everything received was acted on."));
    pager.hidden = !cursor && !page.next_cursor;
    pager.replaceChildren(cursor ? link("/dead-letters", "← Newest") : h("span"), h("span"),
      page.next_cursor ? link(`/dead-letters?cursor=${encodeURIComponent(page.next_cursor)}`, "Older →") : h("span"));
  };
  await load();
  every(load, 5000);
}
