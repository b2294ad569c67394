// timeline.js — per-stage latency of the turns in view (the list's filters
// and order) as stacked bars, and the same turns as Perfetto JSON.
import { get, url } from './api.js';
import { h, s, ms } from './dom.js';
import { go } from './app.js';
import { filterForm, FILTER_KEYS } from './list.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export async function renderTimeline(view, params, info) {
  const filters = Object.fromEntries(FILTER_KEYS.filter(k => params[k]).map(k => [k, params[k]]));
  view.append(filterForm(params, info, p => go('timeline', p)));
  const t = await get('timeline', { ...filters, max: 300 });
  const colour = Object.fromEntries(t.stages.map((st, i) => [st, PALETTE[i % PALETTE.length]]));
  const max = Math.max(1, ...t.turns.map(r => r.stages.reduce((a, [, v]) => a + v, 0)));
  const W = 900, LABEL = 140, BAR = 12;
  const svg = s('svg', { id: 'timeline-chart', width: W + LABEL + 60, height: t.turns.length * (BAR + 2) + 30 });
  t.turns.forEach((r, i) => {
    const y = i * (BAR + 2);
    svg.append(s('text', { x: 0, y: y + BAR - 2 }, `${r.dialogue} #${r.turn}`));
    let x = LABEL;
    for (const [stage, v] of r.stages) {
      const w = (v / max) * W;
      svg.append(s('rect', { x, y, width: Math.max(w, 0.5), height: BAR, fill: colour[stage], class: 'seg' },
        s('title', {}, `${stage}: ${ms(v)} ms`)));
      x += w;
    }
    svg.append(s('text', { x: x + 4, y: y + BAR - 2, fill: '#555' }, ms(r.ms)));
  });
  const legend = h('div', { class: 'legend' }, t.stages.map(st => h('span', { style: { marginRight: '1em', color: colour[st] } }, '■ ' + st)));
  view.append(
    h('p', {}, `${Math.min(300, t.total)} of ${t.total} turns in view (list order); bars are per-stage latency, stacked, in ms. `,
      h('a', { id: 'perfetto-link', href: url('perfetto', { ...filters, max: 300 }), download: 'turns.perfetto.json' }, 'Download as Perfetto JSON'),
      ' (open it in ui.perfetto.dev)'),
    legend, svg);
}
