// list.js — the turn list: filters (kept in the hash) and a virtualised
// list that only builds the rows in view and fetches pages on demand, so a
// million turns scroll like a hundred.
import { get } from './api.js';
import { h, clear, ms, statusClass } from './dom.js';
import { go } from './app.js';

const ROW = 26, PAGE = 200;
export const FILTER_KEYS = ['trace', 'dialogue', 'user', 'stage', 'status', 'code', 'label', 'cmin', 'cmax', 'q', 'sort'];

export function filterForm(params, info, onChange) {
  const trace = info.traces[Number(params.trace || 0)] || info.traces[0];
  const input = (key, label, cls) => h('label', {}, label,
    h('input', { name: key, value: params[key] || '', class: cls, onchange: submit }));
  const select = (key, label, options) => h('label', {}, label,
    h('select', { name: key, onchange: submit },
      options.map(([v, text]) => { const o = h('option', { value: v }, text); o.selected = (params[key] || '') === v; return o; })));
  const points = info.analysis && info.analysis.traces.includes(Number(params.trace || 0))
    ? info.analysis.classes : trace.stages.concat(['ok', 'failed']);
  const form = h('form', { class: 'filters', onsubmit: e => { e.preventDefault(); submit(); } },
    info.traces.length > 1 ? select('trace', 'trace', info.traces.map(t => [String(t.index), t.name])) : null,
    input('dialogue', 'dialogue'), input('user', 'user'),
    select('stage', 'stage', [['', 'any']].concat(trace.stages.map(s => [s, s]))),
    select('status', 'status', ['', 'ok', 'error', 'timeout', 'skipped', 'cancelled', 'crashed', 'failed'].map(s => [s, s || 'any'])),
    input('code', 'error code', 'narrow'),
    select('label', 'failure point', [['', 'any']].concat(points.map(p => [p, p]))),
    input('cmin', 'conf ≥', 'narrow'), input('cmax', 'conf ≤', 'narrow'),
    input('q', 'text'),
    select('sort', 'sort', [['seq', 'turn order'], ['lat_desc', 'latency ↓'], ['lat_asc', 'latency ↑']]),
    h('button', { type: 'submit' }, 'Apply'));
  function submit() {
    const p = {};
    for (const el of form.elements) if (el.name && el.value) p[el.name] = el.value;
    if (p.sort === 'seq') delete p.sort;
    onChange(p);
  }
  return form;
}

export async function renderList(view, params, info, stale) {
  const filters = Object.fromEntries(FILTER_KEYS.filter(k => params[k]).map(k => [k, params[k]]));
  view.append(filterForm(params, info, p => go('turns', p)));
  const count = h('p', { id: 'count' });
  const spacer = h('div', { class: 'spacer' });
  const viewport = h('div', { class: 'viewport', id: 'turn-list' }, spacer);
  view.append(count, h('div', { class: 'list-head' },
    ['seq', 'dialogue', 'turn', 'user', 'status', 'failure point', 'ms', 'text'].map(t => h('span', {}, t))), viewport);
  const pages = new Map();
  let total = 0;

  async function page(n) {
    if (!pages.has(n)) pages.set(n, get('turns', { ...filters, offset: n * PAGE, limit: PAGE }));
    return pages.get(n);
  }
  function rowEl(r, i) {
    const link = { trace: filters.trace || 0, seq: r.seq };
    return h('div', { class: 'turn-row', style: { top: `${i * ROW}px` }, 'data-seq': r.seq, onclick: () => go('turn', link) },
      h('span', {}, r.seq), h('span', {}, r.dialogue), h('span', {}, r.turn), h('span', {}, r.user),
      h('span', { class: statusClass(r.status) }, r.status), h('span', { class: 'point' }, r.failure_point),
      h('span', {}, ms(r.ms)), h('span', {}, r.text));
  }
  async function draw() {
    const first = Math.floor(viewport.scrollTop / ROW);
    const last = Math.min(total, first + Math.ceil(viewport.clientHeight / ROW) + 2);
    const need = new Set();
    for (let i = first; i < last; i += 1) need.add(Math.floor(i / PAGE));
    const loaded = await Promise.all([...need].map(n => page(n).then(p => [n, p])));
    if (stale()) return;
    clear(spacer);
    const byPage = new Map(loaded);
    for (let i = first; i < last; i += 1) {
      const p = byPage.get(Math.floor(i / PAGE));
      const r = p && p.rows[i - p.offset];
      if (r) spacer.append(rowEl(r, i));
    }
  }
  async function refresh() {
    pages.clear();
    const p = await page(0);
    if (stale()) return;
    total = p.total;
    spacer.style.height = `${total * ROW}px`;
    count.textContent = `${total} turns` + (p.done ? '' : ` so far (indexing: ${p.indexed} turns read, ${Math.round(p.fraction * 100)}%)`);
    await draw();
    if (!p.done) setTimeout(refresh, 1000);
  }
  let pending = false;
  viewport.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  });
  await refresh();
}
