// dom.js — building elements without ever parsing markup: every string from
// a trace becomes a text node (a trace is untrusted input).
const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    // Through the CSSOM: the Content-Security-Policy refuses style attributes.
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function h(tag, attrs, ...children) { return build(document.createElement(tag), attrs, children); }
export function s(tag, attrs, ...children) { return build(document.createElementNS(SVG_NS, tag), attrs, children); }
export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
export function json(v) { return h('pre', {}, JSON.stringify(v, null, 2)); }
export function ms(v) { return v === null || v === undefined ? '' : Number(v).toFixed(2); }
export function statusClass(st) { return 'st-' + String(st).replace(/[^a-z_]/g, ''); }
// A two-column key/value grid; pairs whose value is null are left out.
export function kv(pairs) {
  return h('div', { class: 'kv' }, pairs.filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => [h('span', { class: 'k' }, k), h('span', {}, v)]));
}
