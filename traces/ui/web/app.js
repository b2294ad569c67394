// app.js — the router: "#/VIEW?params" picks a view module and renders it
// into <main>. Filters live in the hash, so every view is a link.
import { getInfo, qs } from './api.js';
import { h, clear } from './dom.js';
import { renderList } from './list.js';
import { renderTurn } from './turn.js';
import { renderCompare } from './compare.js';
import { renderSummary } from './summary.js';
import { renderTimeline } from './timeline.js';

const views = { turns: renderList, turn: renderTurn, compare: renderCompare, summary: renderSummary, timeline: renderTimeline };

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [name, query] = raw.split('?');
  return { name: views[name] ? name : 'turns', params: Object.fromEntries(new URLSearchParams(query || '')) };
}

export function go(name, params) { location.hash = '#/' + name + (qs(params) ? '?' + qs(params) : ''); }

let generation = 0;
async function route() {
  const { name, params } = parseHash();
  const view = document.getElementById('view');
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.id === 'nav-' + name);
  const mine = ++generation;
  clear(view);
  view.dataset.view = name;
  try {
    const info = await getInfo();
    await views[name](view, params, info, () => mine !== generation);
  } catch (e) {
    if (mine === generation) view.append(h('p', { class: 'error' }, String(e.message || e)));
  }
}

// The header shows indexing progress until every trace is scanned.
async function poll() {
  const info = await getInfo(true);
  const status = document.getElementById('status');
  const parts = info.traces.map(t => `${t.name}: ${t.rows} turns` + (t.done ? '' : ` (indexing ${Math.round(t.fraction * 100)}%)`));
  status.textContent = parts.join(' · ');
  const notices = clear(document.getElementById('notices'));
  for (const t of info.traces) for (const d of t.damage) notices.append(h('div', { class: 'notice' }, d));
  if (info.analysis) for (const d of info.analysis.diagnostics) notices.append(h('div', { class: 'notice' }, d));
  if (!info.traces.every(t => t.done)) setTimeout(poll, 500);
}

window.addEventListener('hashchange', route);
poll().then(route);
