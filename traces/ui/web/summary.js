// summary.js — failure points per stage, per dialogue position and per
// noise level; latency percentiles per stage.
import { get } from './api.js';
import { h, ms } from './dom.js';
import { go } from './app.js';

function crossTable(id, title, t) {
  return h('table', { id }, h('tr', {}, h('th', {}, title), t.points.map(p => h('th', {}, p))),
    t.rows.map(r => h('tr', {}, h('td', {}, r.key), t.points.map(p => h('td', {}, String(r.counts[p] || 0))))));
}

export async function renderSummary(view, params, info) {
  const trace = params.trace || '0';
  const s = await get('summary', { trace });
  view.append(h('h2', {}, `Summary of ${info.traces[trace].name}: ${s.turns} turns` + (s.done ? '' : ' (still indexing)')),
    h('p', {}, `failure point from: ${s.source}`),
    h('h3', {}, 'failure points'),
    h('table', { id: 'failure-points' }, h('tr', {}, h('th', {}, 'failure point'), h('th', {}, 'turns')),
      Object.entries(s.failure_points).map(([p, n]) => h('tr', {},
        h('td', {}, h('span', { class: 'clickable', onclick: () => go('turns', { trace, label: p }) }, p)), h('td', {}, String(n))))),
    h('h3', {}, 'per dialogue position (turn index)'), crossTable('by-position', 'position', s.by_position),
    h('h3', {}, 'per noise level (SNR of the synthesised speech)'), crossTable('by-noise', 'SNR', s.by_noise),
    h('h3', {}, 'latency per stage (ms, nearest rank)'),
    h('table', { id: 'latency' }, h('tr', {}, ['stage', 'count', 'p50', 'p90', 'p99', 'max'].map(t => h('th', {}, t))),
      s.latency.concat([{ ...s.turn_latency, stage: 'whole turn' }]).map(l => h('tr', {}, h('td', {}, l.stage), h('td', {}, String(l.count)),
        h('td', {}, ms(l.p50_ms)), h('td', {}, ms(l.p90_ms)), h('td', {}, ms(l.p99_ms)), h('td', {}, ms(l.max_ms))))));
}
