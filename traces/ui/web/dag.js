// dag.js — the pipeline's DAG as the turn's records show it (edges from
// the server: a stage reads what an earlier stage wrote), one box per stage
// coloured by its status, laid out in layers by longest path.
import { s } from './dom.js';

const COLOURS = { ok: '#d7f0dd', error: '#f7c9c9', timeout: '#f7c9c9', skipped: '#fbefc4', cancelled: '#fbefc4', crashed: '#f7c9c9', input: '#e3e8f7' };

export function dagSvg(turn) {
  const nodes = ['input', ...turn.stages.map(st => st.stage)];
  const status = Object.fromEntries(turn.stages.map(st => [st.stage, st.status]));
  status.input = 'input';
  const layer = Object.fromEntries(nodes.map(n => [n, 0]));
  for (let pass = 0; pass < nodes.length; pass += 1)
    for (const [from, to] of turn.edges) if (layer[to] <= layer[from]) layer[to] = layer[from] + 1;
  // Stages no edge reaches (e.g. nothing matched) follow their predecessor in time.
  turn.stages.forEach((st, i) => {
    if (!turn.edges.some(e => e[1] === st.stage)) layer[st.stage] = i === 0 ? 1 : layer[turn.stages[i - 1].stage] + 1;
  });
  const rows = {};
  const pos = {};
  for (const n of nodes) { const l = layer[n]; rows[l] = (rows[l] || 0) + 1; pos[n] = [l, rows[l] - 1]; }
  const W = 110, H = 34, GX = 40, GY = 14;
  const width = (Math.max(...Object.values(layer)) + 1) * (W + GX);
  const height = Math.max(...Object.values(rows)) * (H + GY) + GY;
  const xy = n => [pos[n][0] * (W + GX) + 4, pos[n][1] * (H + GY) + GY];
  const svg = s('svg', { width, height, class: 'dag', role: 'img' });
  for (const [from, to] of turn.edges) {
    if (!(from in pos) || !(to in pos)) continue;
    const [x1, y1] = xy(from), [x2, y2] = xy(to);
    svg.append(s('line', { x1: x1 + W, y1: y1 + H / 2, x2, y2: y2 + H / 2, stroke: '#778', 'stroke-width': 1.5 }));
  }
  for (const n of nodes) {
    const [x, y] = xy(n);
    svg.append(s('g', { class: 'dag-node', 'data-stage': n },
      s('rect', { x, y, width: W, height: H, rx: 4, fill: COLOURS[status[n]] || '#eee', stroke: '#556' }),
      s('text', { x: x + 6, y: y + 14 }, n),
      s('text', { x: x + 6, y: y + 28, fill: '#555' }, status[n] === 'input' ? '' : status[n])));
  }
  return svg;
}
