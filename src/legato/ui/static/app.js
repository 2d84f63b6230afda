// The page shell: routes a path to its page module, keeps links inside the page
// (history.pushState: every view has a URL to share), and runs each page's live refresh,
// paused while the tab is hidden and stopped when the view changes.

import { ApiError, setApiKey } from "./api.js";
import { errorBox, h, panel } from "./dom.js";

const ROUTES = [
  [/^\/$/, "executions", "./pages/executions.js"],
  [/^\/executions\/?$/, "executions", "./pages/executions.js"],
  [/^\/executions\/(.+)$/, "executions", "./pages/execution.js"], // a child id has a "/"
  [/^\/definitions\/?$/, "definitions", "./pages/definitions.js"],
  [/^\/definitions\/([^/]+)$/, "definitions", "./pages/definition.js"],
  [/^\/schedules\/?$/, "schedules", "./pages/schedules.js"],
  [/^\/dead-letters\/?$/, "dead-letters", "./pages/dead_letters.js"],
  [/^\/queues\/?$/, "queues", "./pages/queues.js"],
  [/^\/cluster\/?$/, "cluster", "./pages/cluster.js"],
];
const DEFAULT_EVERY_MS = 2000;

let generation = 0; // a view's refreshes stop when this moves on
const refreshers = new Set();

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  show();
}

// Calls `refresh` every `ms` while this view is shown and the tab visible (never two at once).
function every(view, refresh, ms = DEFAULT_EVERY_MS) {
  const one = { view, refresh, ms, timer: null, running: false };
  const tick = async () => {
    if (view !== generation) return;
    if (document.hidden) {
      one.timer = null; // visibilitychange starts it again
      return;
    }
    one.running = true;
    const live = document.getElementById("live");
    try {
      await refresh();
      live.classList.remove("offline");
      live.textContent = "live";
    } catch (error) {
      // the server restarting, or the network: say so, and keep trying
      live.classList.add("offline");
      live.textContent = "reconnecting…";
      console.warn("refresh failed", error);
    } finally {
      one.running = false;
    }
    if (view === generation) one.timer = setTimeout(tick, ms);
  };
  one.tick = tick;
  refreshers.add(one);
  one.timer = setTimeout(tick, ms);
}

document.addEventListener("visibilitychange", () => {
  document.getElementById("live")?.classList.toggle("paused", document.hidden);
  if (document.hidden) return;
  for (const one of refreshers) {
    if (one.view === generation && one.timer === null && !one.running) one.tick();
  }
});

function stopRefreshing() {
  generation += 1;
  for (const one of [...refreshers]) {
    clearTimeout(one.timer);
    refreshers.delete(one);
  }
  return generation;
}

function keyForm(root, error) {
  stopRefreshing();
  const input = h("input", { type: "password", name: "key", placeholder: "lgk_…", required: true, size: 40 });
  root.replaceChildren(panel("An API key is needed",
    h("p", {}, "This server requires an API key (", h("code", {}, "legato keys create"),
      " prints one). It is kept in this browser only."),
    h("p", { class: "muted" }, error.message),
    h("form", {
      class: "inline-form",
      onsubmit: (event) => {
        event.preventDefault();
        setApiKey(input.value.trim());
        show();
      },
    }, input, h("button", { class: "primary" }, "Use this key"))));
}

async function show() {
  const view = stopRefreshing();
  const root = document.getElementById("view");
  const path = location.pathname;
  const found = ROUTES.find(([pattern]) => pattern.test(path));
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", !!found && a.dataset.section === found[1]);
  }
  if (!found) {
    root.replaceChildren(panel("Not found", h("p", {}, `No page at ${path}.`)));
    return;
  }
  const [pattern, section, module] = found;
  const params = pattern.exec(path).slice(1).map(decodeURIComponent);
  const heading = document.querySelector(`nav a[data-section="${section}"]`).textContent;
  document.title = `${params.length ? params[0] : heading} · Legato`;
  const context = {
    root,
    params,
    query: new URLSearchParams(location.search),
    navigate,
    every: (refresh, ms) => every(view, refresh, ms),
    current: () => view === generation,
  };
  try {
    const page = await import(module);
    if (view !== generation) return;
    await page.render(context);
  } catch (error) {
    if (view !== generation) return;
    if (!(error instanceof ApiError && error.status === 401)) root.replaceChildren(errorBox(error));
  }
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-nav]");
  if (!a || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  if (a.getAttribute("href") !== location.pathname + location.search) navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", show);
window.addEventListener("legato:key-needed", (event) => keyForm(document.getElementById("view"), event.detail));
show();
