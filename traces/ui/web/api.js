// api.js — the server's JSON endpoints, and query strings from plain objects.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  return u.toString();
}

export async function get(path, params) {
  const r = await fetch('/api/' + path + '?' + qs(params));
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

export function url(path, params) { return '/api/' + path + '?' + qs(params); }

let info = null;
export async function getInfo(refresh) {
  if (!info || refresh) info = await get('info');
  return info;
}
