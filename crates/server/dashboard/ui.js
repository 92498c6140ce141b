// Small DOM helpers shared by every page: element building, formatting,
// state pills, the ask-before-acting dialog, and toasts.

/** Bead states in the order a bead moves through them. */
export const BEAD_STATES = ['pending', 'ready', 'scheduled', 'running', 'completed', 'failed', 'timed_out', 'cancelled'];
/** Run states. */
export const RUN_STATES = ['running', 'completed', 'failed', 'cancelled'];

/**
 * Build an element: `h('td', { class: 'num', dataset: { state } }, 'text', child)`.
 * Attributes starting with `on` are listeners; text is always text (never HTML).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace `el`'s children, skipping null, undefined and false as `h` does. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/** A state as a coloured pill. */
export function pill(state, text = state) {
  return h('span', { class: 'pill', dataset: { state } }, String(text).replace('_', ' '));
}

/** `12:03:04` today, else `2026-12-03 12:03`. */
export function time(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const today = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === today.toDateString()) return clock;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

/** `850 ms`, `12.3 s`, `4 m 05 s`, `3 h 02 m`. */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A thousands-separated integer. */
export function num(n) {
  return Number(n).toLocaleString('en-US');
}

/** A box of counts, one per state, coloured: `[{ state, count, label }]`. */
export function counts(items, { onPick, picked } = {}) {
  return h('div', { class: 'counts' }, items.map(({ state, count, label }) => {
    const tag = onPick ? 'button' : 'div';
    return h(tag, {
      class: 'count',
      dataset: { state, count: String(count) },
      'aria-pressed': onPick ? String(picked === state) : undefined,
      onclick: onPick ? () => onPick(state) : undefined,
    }, h('b', {}, num(count)), h('span', {}, label ?? state.replace('_', ' ')));
  }));
}

/**
 * Ask before acting: a modal with a title, a sentence and, when `reason`
 * is given, a text field. Resolves to `{ reason }` on confirm, `null` on
 * cancel.
 */
export function ask({ title, text, confirm, danger = false, reason }) {
  return new Promise((resolve) => {
    const field = reason !== undefined
      ? h('input', { name: 'reason', type: 'text', placeholder: reason, 'aria-label': 'reason' })
      : null;
    const dialog = h('dialog', { class: 'ask', 'aria-label': title },
      h('h3', {}, title),
      h('p', {}, text),
      field ? [h('label', {}, 'Reason (written to the log)'), field] : null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', 'data-answer': 'no', onclick: () => dialog.close('no') }, 'Keep it'),
        h('button', { type: 'button', 'data-answer': 'yes', class: danger ? 'danger' : 'primary', onclick: () => dialog.close('yes') }, confirm)));
    dialog.addEventListener('close', () => {
      const answer = dialog.returnValue;
      dialog.remove();
      resolve(answer === 'yes' ? { reason: field && field.value.trim() ? field.value.trim() : undefined } : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A message in the corner for a few seconds. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/** Run `fn` at most once per `ms`, the last call winning (trailing edge). */
export function throttle(fn, ms) {
  let timer = null;
  let again = false;
  const fire = () => {
    timer = null;
    if (again) { again = false; fn(); timer = setTimeout(fire, ms); }
  };
  const call = () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(fire, ms);
  };
  call.cancel = () => { if (timer) clearTimeout(timer); timer = null; again = false; };
  return call;
}

/** The path of a run's page. */
export function runHref(run) {
  return `/ui/runs/${encodeURIComponent(run)}`;
}
