// The /v1 API as the pages use it: JSON in and out, problem details turned into ApiError,
// and the API key (asked for once when the server answers 401) sent with every request.

const KEY = "legato.apiKey";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function apiKey() {
  return localStorage.getItem(KEY);
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

async function request(method, path, { query, body, accept } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
  }
  const headers = { Accept: accept || "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let problem = { title: response.statusText };
    try {
      problem = await response.json();
    } catch {
      // not a problem document: keep the status text
    }
    const error = new ApiError(response.status, problem);
    // whichever page asked, the shell asks for a key (app.js)
    if (response.status === 401) window.dispatchEvent(new CustomEvent("legato:key-needed", { detail: error }));
    throw error;
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, query) => request("GET", path, { query });
export const getText = (path, query, accept) => request("GET", path, { query, accept });
export const post = (path, body) => request("POST", path, { body: body ?? {} });

// An execution id or a name inside a path: one segment, whatever it holds.
export const seg = (text) => encodeURIComponent(text);
