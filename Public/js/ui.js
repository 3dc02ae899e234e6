// DOM helpers (no innerHTML: every server string goes through textContent), forms whose
// problem+json errors appear next to the fields they name, and hand-drawn SVG charts.
import { ApiError, fen, bp, statusText } from './api.js';

const BOOL_PROPS = new Set(['required', 'disabled', 'checked', 'selected', 'multiple', 'hidden', 'readOnly']);

/** h('button', {class: 'x', onclick: fn, testid: 'y'}, 'text', child, [more]) */
export function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'for') el.htmlFor = v;
    else if (k === 'value') el.value = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (BOOL_PROPS.has(k)) el[k] = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const kid of kids) {
    if (kid === null || kid === undefined || kid === false) continue;
    if (Array.isArray(kid)) append(el, kid);
    else if (kid instanceof Node) el.appendChild(kid);
    else el.appendChild(document.createTextNode(String(kid)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
export function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') el.textContent = v; else if (k === 'testid') el.setAttribute('data-testid', v);
    else if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) if (kid) el.appendChild(kid);
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

export function badge(status, text) {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, text || statusText(status));
}

/** A definition list from [label, value] pairs; values may be nodes. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));
}

export function loading() { return h('p', { class: 'muted', role: 'status' }, '加载中…'); }

export function errorBox(err) {
  return h('div', { class: 'alert alert-error', role: 'alert' }, err?.detail || err?.message || String(err));
}

export function notice(text, kind = 'ok') {
  return h('div', { class: `alert alert-${kind}`, role: 'status' }, text);
}

/** Runs async `load(container)` with a loading indicator and an error box on failure. */
export async function section(container, load) {
  clear(container).appendChild(loading());
  try {
    const nodes = await load();
    clear(container);
    append(container, [nodes]);
  } catch (e) {
    clear(container).appendChild(errorBox(e));
    if (!(e instanceof ApiError)) console.error(e);
  }
}

let fieldSeq = 0;

/**
 * form({id, fields, submit, onSubmit, testid, className}) → <form>.
 * field: {name, label, type ('text' default, 'password', 'number', 'date', 'textarea', 'select',
 *   'checkbox', 'checkboxes', 'file', 'money', 'hidden'), options: [[value, text]], value,
 *   required, hint, placeholder, autocomplete, accept, inputmode}
 * onSubmit(values, form) may throw an ApiError; its errors land beside the named fields.
 * Its return value, if a string, is shown as a success note.
 */
export function form({ id, fields, submit = '提交', onSubmit, testid, className = '', reset = false }) {
  const formEl = h('form', { id, class: `form ${className}`, novalidate: true, testid: testid || id });
  const top = h('div', { class: 'form-error alert alert-error', role: 'alert', hidden: true, testid: 'form-error' });
  const ok = h('div', { class: 'form-ok alert alert-ok', role: 'status', hidden: true, testid: 'form-ok' });
  formEl.append(top);
  for (const f of fields) formEl.append(fieldRow(formEl, f));
  const button = h('button', { type: 'submit', class: 'primary', testid: (testid || id || 'form') + '-submit' }, submit);
  formEl.append(h('div', { class: 'form-actions' }, button), ok);
  formEl.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(formEl);
    ok.hidden = true;
    button.disabled = true;
    formEl.setAttribute('aria-busy', 'true');
    try {
      const result = await onSubmit(values(formEl, fields), formEl);
      if (typeof result === 'string' && formEl.isConnected) {
        ok.textContent = result;
        ok.hidden = false;
      }
      if (reset && formEl.isConnected) formEl.reset();
    } catch (e) {
      showProblem(formEl, e);
    } finally {
      button.disabled = false;
      formEl.removeAttribute('aria-busy');
    }
  });
  return formEl;
}

function fieldRow(formEl, f) {
  const fid = `f${++fieldSeq}-${f.name}`;
  const common = { id: fid, name: f.name, required: f.required, autocomplete: f.autocomplete, placeholder: f.placeholder };
  let input;
  const type = f.type || 'text';
  if (type === 'hidden') return h('input', { type: 'hidden', name: f.name, value: f.value ?? '' });
  if (type === 'textarea') {
    input = h('textarea', { ...common, rows: f.rows || 3 });
    input.value = f.value ?? '';
  } else if (type === 'select') {
    input = h('select', common, (f.options || []).map(([v, t]) => h('option', { value: v }, t)));
    if (f.value !== undefined && f.value !== null) input.value = f.value;
  } else if (type === 'checkbox') {
    input = h('input', { ...common, type: 'checkbox', checked: !!f.value });
    return h('div', { class: 'field field-check' }, input, h('label', { for: fid }, f.label), hint(f, fid));
  } else if (type === 'checkboxes') {
    const chosen = new Set(f.value || []);
    return h('fieldset', { class: 'field field-checks', 'data-name': f.name },
      h('legend', {}, f.label),
      (f.options || []).map(([v, t], i) => {
        const cid = `${fid}-${i}`;
        return h('span', { class: 'check' },
          h('input', { type: 'checkbox', id: cid, name: f.name, value: v, checked: chosen.has(v) }),
          h('label', { for: cid }, t));
      }), hint(f, fid));
  } else if (type === 'file') {
    input = h('input', { ...common, type: 'file', accept: f.accept });
  } else if (type === 'money') {
    input = h('input', { ...common, type: 'text', inputmode: 'decimal', value: f.value ?? '', placeholder: f.placeholder || '0.00' });
  } else {
    input = h('input', { ...common, type, value: f.value ?? '', inputmode: f.inputmode, min: f.min, max: f.max, step: f.step });
  }
  const label = h('label', { for: fid }, f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  return h('div', { class: 'field' }, label, input, hint(f, fid));
}

function hint(f, fid) {
  return f.hint ? h('small', { class: 'hint', id: fid + '-hint' }, f.hint) : null;
}

function values(formEl, fields) {
  const out = {};
  for (const f of fields) {
    const els = formEl.querySelectorAll(`[name="${CSS.escape(f.name)}"]`);
    if (f.type === 'checkbox') out[f.name] = els[0].checked;
    else if (f.type === 'checkboxes') out[f.name] = [...els].filter((e) => e.checked).map((e) => e.value);
    else if (f.type === 'file') out[f.name] = els[0].files[0] || null;
    else out[f.name] = typeof els[0].value === 'string' && f.type !== 'password' ? els[0].value.trim() : els[0].value;
  }
  return out;
}

export function clearErrors(formEl) {
  formEl.querySelectorAll('.field-error').forEach((e) => e.remove());
  formEl.querySelectorAll('[aria-invalid]').forEach((e) => { e.removeAttribute('aria-invalid'); e.removeAttribute('aria-describedby'); });
  const top = formEl.querySelector('.form-error');
  if (top) { top.hidden = true; top.textContent = ''; }
}

/** Puts each `errors[].field` message beside the input of that name; the rest at the top. */
export function showProblem(formEl, err) {
  if (!(err instanceof ApiError)) console.error(err);
  const top = formEl.querySelector('.form-error');
  const unplaced = [];
  let first = null;
  for (const fe of err.errors || []) {
    const target = findField(formEl, fe.field);
    if (!target) { unplaced.push(fe); continue; }
    const anchor = target.closest('.field') || target;
    const msgId = (target.id || 'x') + '-error';
    if (!anchor.querySelector(`.field-error[data-field="${CSS.escape(fe.field)}"]`)) {
      anchor.appendChild(h('span', { class: 'field-error', id: msgId, 'data-field': fe.field, testid: 'field-error' }, fe.message));
    }
    target.setAttribute('aria-invalid', 'true');
    target.setAttribute('aria-describedby', msgId);
    first ||= target;
  }
  if (unplaced.length || !(err.errors || []).length) {
    top.textContent = err.detail || err.message || '提交失败';
    top.hidden = false;
  } else if (err.status !== 0) {
    top.textContent = '请修改标出的字段后重新提交。';
    top.hidden = false;
  }
  if (!formEl.isConnected) return;
  if (first) first.focus();
  else { top.tabIndex = -1; top.focus(); }
}

function findField(formEl, field) {
  if (!field) return null;
  const candidates = [field, field.replace(/\[\d+\]/g, ''), field.split('.').pop(), field.split('.').pop().replace(/\[\d+\]/g, '')];
  for (const name of candidates) {
    const el = formEl.querySelector(`[name="${CSS.escape(name)}"]`);
    if (el && el.type !== 'hidden') return el;
  }
  return null;
}

/** A button that runs an async action, shows its error next to it, then calls done(). */
export function actionButton(label, action, { testid, kind = '', done } = {}) {
  const out = h('span', { class: 'action' });
  const msg = h('span', { class: 'field-error', role: 'alert', hidden: true });
  const btn = h('button', {
    type: 'button', class: kind, testid,
    onclick: async () => {
      btn.disabled = true; msg.hidden = true;
      try {
        const r = await action();
        if (done) await done(r);
      } catch (e) {
        msg.textContent = e.detail || e.message; msg.hidden = false;
      } finally { btn.disabled = false; }
    },
  }, label);
  out.append(btn, msg);
  return out;
}

/** A <details> wrapping a form (for reject-with-reason and similar inline steps). */
export function disclosure(summary, content, { testid, open = false } = {}) {
  return h('details', { class: 'disclosure', testid, open }, h('summary', {}, summary), content);
}

/** The value of `name` in the hash's query (#/portal/tab?name=value); `fallback` when absent. */
export function hashParam(name, fallback = '') {
  const p = new URLSearchParams(location.hash.split('?')[1] || '');
  return p.has(name) ? p.get(name) : fallback;
}

/** Filter links `base?name=key` for [key, text] options; the current one is marked. */
export function filterNav(base, name, options, current, label = '筛选') {
  return h('nav', { class: 'filters', 'aria-label': label }, options.map(([k, t]) =>
    h('a', { href: `${base}?${name}=${k}`, class: k === current ? 'current' : '', 'aria-current': k === current ? 'page' : null }, t)));
}

/** Tabs as links to #/portal/tab; the current one is marked. */
export function tabs(base, list, current) {
  return h('nav', { class: 'tabs', 'aria-label': '功能' },
    list.map(([key, text]) => h('a', {
      href: `#/${base}/${key}`, class: key === current ? 'tab current' : 'tab', testid: `tab-${key}`,
      'aria-current': key === current ? 'page' : null,
    }, text)));
}

export function table(headers, rows, { testid, empty = '暂无记录' } = {}) {
  if (!rows.length) return h('p', { class: 'muted empty', testid }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { testid },
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

/** Download a protected file with the Bearer token and hand it to the browser. */
export function downloadLink(text, fetchBlob, filename) {
  return h('a', {
    href: '#', class: 'download',
    onclick: async (ev) => {
      ev.preventDefault();
      try {
        const blob = await fetchBlob();
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: filename });
        document.body.appendChild(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (e) { ev.target.after(h('span', { class: 'field-error' }, e.detail || e.message)); }
    },
  }, text);
}

// ---- charts (SVG drawn by hand; sized by viewBox, scaled by CSS) ----

/** Horizontal bar chart of rows [{label, value}] with value formatted by `format`. */
export function barChart(rows, { title, format = String, testid = 'bar-chart', max: atLeast = 1 } = {}) {
  if (!rows.length) return h('p', { class: 'muted empty', testid }, '本期暂无数据（仅统计已验收并付款的订单）');
  const W = 640, labelW = 150, valueW = 110, barH = 22, gap = 10, top = 8;
  const H = top * 2 + rows.length * (barH + gap);
  const max = Math.max(atLeast, ...rows.map((r) => r.value));
  const plotW = W - labelW - valueW - 10;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title || '柱状图', testid },
    s('title', { text: title || '柱状图' }));
  rows.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const w = Math.max(r.value > 0 ? 2 : 0, Math.round((r.value / max) * plotW));
    const label = r.label.length > 10 ? r.label.slice(0, 9) + '…' : r.label;
    svg.append(
      s('text', { x: labelW - 8, y: y + barH * 0.7, 'text-anchor': 'end', class: 'chart-label', text: label }),
      s('rect', { x: labelW, y, width: w, height: barH, rx: 3, class: 'bar' }, s('title', { text: `${r.label}：${format(r.value)}` })),
      s('text', { x: labelW + w + 6, y: y + barH * 0.7, class: 'chart-value', text: format(r.value) }),
    );
  });
  return h('figure', { class: 'chart-figure' }, svg, title ? h('figcaption', {}, title) : null);
}

/**
 * The quota plan's progress: completed (settled) and committed (ordered, unpaid) against the
 * reserved share, with the pro-rata expected line from expectedBp.
 */
export function quotaChart(plan) {
  const W = 640, H = 150, x0 = 20, plotW = 600, y = 40, barH = 40;
  const reserved = plan.reservedFen;
  const filled = plan.completedFen + plan.committedFen;
  const max = Math.max(reserved, filled, 1);
  const px = (v) => Math.round((v / max) * plotW);
  const expectedFen = Math.floor((reserved * plan.expectedBp) / 10000);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart quota-chart', role: 'img', testid: 'quota-chart',
    'aria-label': `已完结 ${fen(plan.completedFen)}，已下单 ${fen(plan.committedFen)}，预留份额 ${fen(reserved)}` },
  s('title', { text: '预留份额完成进度' }),
  s('rect', { x: x0, y, width: px(reserved), height: barH, class: 'q-reserved' }),
  s('rect', { x: x0, y, width: px(plan.completedFen), height: barH, class: 'q-completed', testid: 'quota-bar-completed' }),
  s('rect', { x: x0 + px(plan.completedFen), y, width: px(plan.committedFen), height: barH, class: 'q-committed' }),
  s('line', { x1: x0 + px(expectedFen), x2: x0 + px(expectedFen), y1: y - 14, y2: y + barH + 14, class: 'q-expected' }),
  s('text', { x: Math.min(x0 + px(expectedFen), W - 120), y: y - 18, class: 'chart-label', text: `应达 ${bp(plan.expectedBp)}` }),
  s('text', { x: x0, y: y + barH + 32, class: 'chart-label', text: '0' }),
  s('text', { x: x0 + px(reserved), y: y + barH + 32, 'text-anchor': 'end', class: 'chart-label', text: `预留 ${fen(reserved)}` }),
  );
  const legend = h('ul', { class: 'legend' },
    h('li', {}, h('span', { class: 'swatch q-completed' }), '已完结（已验收并付款）：',
      h('strong', { testid: 'quota-completed', 'data-fen': plan.completedFen }, fen(plan.completedFen))),
    h('li', {}, h('span', { class: 'swatch q-committed' }), '已下单未完结：',
      h('strong', { testid: 'quota-committed', 'data-fen': plan.committedFen }, fen(plan.committedFen))),
    h('li', {}, h('span', { class: 'swatch q-reserved' }), '预留份额：',
      h('strong', { testid: 'quota-reserved', 'data-fen': reserved }, fen(reserved))),
    h('li', {}, h('span', { class: 'swatch q-expected' }), '按时间进度应达：', h('strong', {}, bp(plan.expectedBp))),
    h('li', {}, '完成率：', h('strong', { testid: 'quota-completion' }, bp(plan.completionBp)), ' ',
      plan.onTrack ? h('span', { class: 'badge status-active' }, '进度正常') : h('span', { class: 'badge status-rejected' }, '进度落后')),
  );
  return h('figure', { class: 'chart-figure' }, svg, legend);
}

/**
 * A list read page by page: fetchPage(cursor) → {items, nextCursor}; renderItem(item) → node.
 * Shows a「加载更多」button while there is a next page.
 */
export function pagedList(fetchPage, renderItem, { testid, empty = '暂无记录', className = 'list' } = {}) {
  const list = h('div', { class: className, testid });
  const more = h('button', { type: 'button', class: 'more', testid: testid ? testid + '-more' : null, hidden: true }, '加载更多');
  const status = h('div', {});
  const wrap = h('div', {}, list, status, more);
  let cursor = null;
  let count = 0;
  async function load() {
    more.disabled = true;
    try {
      const page = await fetchPage(cursor);
      for (const item of page.items) list.appendChild(renderItem(item));
      count += page.items.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      clear(status);
      if (!count) status.appendChild(h('p', { class: 'muted empty' }, empty));
    } catch (e) {
      clear(status).appendChild(errorBox(e));
    } finally { more.disabled = false; }
  }
  more.addEventListener('click', load);
  wrap.ready = load();
  return wrap;
}
