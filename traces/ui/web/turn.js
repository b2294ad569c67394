// turn.js — one turn: its DAG, the failure point and its evidence, the
// replay command, and per stage its inputs, outputs (gold beside them),
// confidence, n-best, features, timings and error. Audio plays from the
// trace's payloads; a trace written with audio = "hash" says so instead.
import { get, url } from './api.js';
import { h, json, kv, ms, statusClass } from './dom.js';
import { dagSvg } from './dag.js';

function payloadEl(p, where) {
  if (p.type === 'text') return h('div', { class: 'payload' }, h('b', {}, p.port + ': '), p.text !== undefined ? p.text : `(hashed ${p.xxh64})`);
  if (p.type === 'json') return h('div', { class: 'payload' }, h('b', {}, p.port + ':'), json(p.json));
  if (p.type === 'audio') {
    const head = h('b', {}, `${p.port}: audio ${(p.samples / (p.sample_rate || 16000)).toFixed(2)} s @ ${p.sample_rate} Hz `);
    if (!p.stored) return h('div', { class: 'payload' }, head,
      h('span', { class: 'hashed' }, 'not playable: this trace was written with audio = "hash" (only size and xxh64 kept)'));
    return h('div', { class: 'payload' }, head, h('audio', { controls: true, preload: 'none', src: url('audio', { ...where, port: p.port }) }));
  }
  return h('div', { class: 'payload' }, h('b', {}, p.port + ': '), `type ${p.type}, ${p.bytes} bytes`);
}

export function stageCard(turn, st, opts = {}) {
  const where = { trace: turn.trace, seq: turn.seq, stage: st.stage };
  const gold = turn.gold && typeof turn.gold === 'object' ? turn.gold[st.stage] : undefined;
  const failed = st.status !== 'ok';
  const fields = kv([
    ['plugin', `${st.plugin} ${st.plugin_version}`],
    ['status', h('span', { class: statusClass(st.status) }, st.status)],
    ['time', `${ms(st.dur_ns / 1e6)} ms (worker ${st.worker})`],
    ['confidence', st.confidence !== null ? String(st.confidence) : null],
    ['error', st.error_code || st.error_message ? h('span', { class: 'error' }, `[${st.error_code}] ${st.error_message}`) : null]]);
  const outputs = h('div', {}, h('h4', {}, 'outputs'), st.outputs.map(p => payloadEl(p, { ...where, side: 'out' })));
  const extras = [];
  if (st.nbest.length) extras.push(h('table', {}, h('tr', {}, h('th', {}, 'n-best'), h('th', {}, 'score')),
    st.nbest.map(b => h('tr', {}, h('td', {}, b.text), h('td', {}, String(b.score))))));
  const feats = Object.entries(st.features).concat(Object.entries(st.text_features));
  if (feats.length) extras.push(h('table', {}, h('tr', {}, h('th', {}, 'feature'), h('th', {}, 'value')),
    feats.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v))))));
  return h('section', { class: 'card stage' + (failed ? ' failed' : '') + (opts.divergent ? ' divergent' : ''), 'data-stage': st.stage },
    h('h3', {}, st.stage),
    fields,
    h('div', { class: 'io' },
      h('div', {}, h('h4', {}, 'inputs'), st.inputs.map(p => payloadEl(p, { ...where, side: 'in' }))),
      gold !== undefined ? h('div', { class: 'io' }, outputs, h('div', { class: 'gold' }, h('h4', {}, 'gold'), json(gold))) : outputs),
    extras);
}

export function turnHeader(turn) {
  return kv([
    ['turn', `${turn.dialogue} #${turn.turn} (seq ${turn.seq}, user ${turn.user})`],
    ['status', h('span', { class: statusClass(turn.status || 'no_record') }, turn.status || 'no turn record')],
    ['time', `${ms(turn.dur_ns / 1e6)} ms`],
    ['input', turn.input ? payloadEl(turn.input, { trace: turn.trace, seq: turn.seq, stage: 'input' }) : null],
    ['result', turn.result !== undefined ? json(turn.result) : null]]);
}

export async function renderTurn(view, params) {
  const turn = await get('turn', { trace: params.trace || 0, seq: params.seq });
  const copy = h('button', { id: 'copy-replay', onclick: async () => {
    try { await navigator.clipboard.writeText(turn.replay); copy.textContent = 'copied'; }
    catch { copy.textContent = 'select the command to copy'; }
  } }, 'copy');
  const analysis = turn.analysis;
  view.append(
    h('h2', {}, `Turn ${turn.dialogue} #${turn.turn}`),
    turnHeader(turn),
    h('div', { class: 'card failure', id: 'failure-point' },
      h('h3', {}, 'failure point: ', h('span', { class: 'point' }, turn.failure_point || 'none')),
      analysis ? [h('div', {}, `label ${analysis.label}, score ${analysis.score}`), h('h4', {}, 'evidence'), json(analysis.evidence)]
        : h('div', {}, turn.failure_point ? 'first stage that did not finish ok (no analysis file)' : 'every stage ran ok (no analysis file)')),
    h('div', { class: 'cmd' }, 'replay this turn: ', h('code', { id: 'replay-cmd' }, turn.replay), copy),
    h('div', { class: 'card' }, h('h3', {}, 'pipeline'), dagSvg(turn)),
    ...turn.stages.map(st => stageCard(turn, st)));
}
