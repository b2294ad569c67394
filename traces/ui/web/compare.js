// compare.js — two traces side by side, as `cascade diff` computes them:
// turns per first divergent stage, and the two records of a turn together.
import { get } from './api.js';
import { h, clear } from './dom.js';
import { go } from './app.js';
import { stageCard, turnHeader } from './turn.js';

export async function renderCompare(view, params, info, stale) {
  if (info.traces.length < 2) {
    view.append(h('p', {}, 'Compare needs two traces: cascade ui A.cas B.cas'));
    return;
  }
  const a = params.a || '0', b = params.b || '1';
  const pick = (key, value) => h('select', { name: key, onchange: e => go('compare', { ...params, [key]: e.target.value, stage: '' }) },
    info.traces.map(t => { const o = h('option', { value: t.index }, t.name); o.selected = String(t.index) === value; return o; }));
  view.append(h('div', { class: 'filters' }, h('label', {}, 'A', pick('a', a)), h('label', {}, 'B', pick('b', b))));
  const status = h('p', {}, 'comparing (reads both traces, as cascade diff does)…');
  view.append(status);
  const report = await get('compare', { a, b, stage: params.stage });
  if (stale()) return;
  status.textContent = `${report.matched} turns matched, ${report.identical} identical, ` +
    `${report.only_in_a} only in A, ${report.only_in_b} only in B`;
  view.append(h('table', { id: 'by-stage' }, h('tr', {}, h('th', {}, 'first divergent stage'), h('th', {}, 'turns')),
    report.by_stage.map(r => h('tr', {}, h('td', {}, h('span', { class: 'clickable', onclick: () => go('compare', { a, b, stage: r.stage }) }, r.stage)),
      h('td', {}, String(r.turns))))));
  const pairEl = h('div', { id: 'pair' });
  view.append(h('h3', {}, params.stage ? `turns whose first divergent stage is ${params.stage} (${report.total})` : `diverging turns (${report.total})`),
    h('table', { id: 'divergences' }, h('tr', {}, ['dialogue', 'turn', 'stage', 'reason'].map(t => h('th', {}, t))),
      report.divergences.map(d => h('tr', { class: 'clickable divergence', onclick: () => showPair(d) },
        h('td', {}, d.dialogue), h('td', {}, String(d.turn)), h('td', {}, d.stage), h('td', {}, d.reason)))),
    pairEl);

  async function showPair(d) {
    const pair = await get('pair', { a, b, dialogue: d.dialogue, turn: d.turn });
    clear(pairEl);
    const side = (t, name) => h('div', { class: 'side' }, h('h3', {}, name),
      t ? [turnHeader(t), t.stages.map(st => stageCard(t, st, { divergent: st.stage === d.stage }))] : h('p', {}, 'not in this trace'));
    pairEl.append(h('h3', {}, `${d.dialogue} #${d.turn}: first divergent stage ${d.stage} (${d.reason})`),
      h('div', { class: 'pair' }, side(pair.a, info.traces[a].name), side(pair.b, info.traces[b].name)));
    pairEl.scrollIntoView();
  }
  if (params.dialogue) await showPair({ dialogue: params.dialogue, turn: Number(params.turn || 0), stage: params.stage || '', reason: '' });
}
