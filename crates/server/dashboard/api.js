// The API client the pages share: JSON requests under /api/v1 with the
// bearer token when one is set, and the live event stream (Server-Sent
// Events read with fetch, so the token rides along and a reconnect
// resumes after the last event seen, with Last-Event-ID).

import { ask, h } from './ui.js';

const TOKEN_KEY = 'strand.token';
export const API = '/api/v1';

/** An error the API answered: its HTTP status, stable `code` and message. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function headers(extra = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

let asking = null;

/** Ask once for the token (several requests may be refused at once). */
function askToken() {
  if (!asking) {
    asking = new Promise((resolve) => {
      const field = h('input', { type: 'password', name: 'token', 'aria-label': 'token', autocomplete: 'current-password' });
      const form = h('form', { method: 'dialog' },
        h('h3', {}, 'This engine needs a token'),
        h('p', {}, 'It was started with --token-file or STRAND_TOKEN. The token is kept in this tab only.'),
        h('label', {}, 'Bearer token'), field,
        h('div', { class: 'actions' }, h('button', { class: 'primary', value: 'ok' }, 'Use it')));
      const dialog = h('dialog', {}, form);
      dialog.addEventListener('close', () => {
        if (field.value) sessionStorage.setItem(TOKEN_KEY, field.value);
        dialog.remove();
        asking = null;
        resolve(Boolean(field.value));
      });
      document.body.append(dialog);
      dialog.showModal();
    });
  }
  return asking;
}

async function request(method, path, body, retried = false) {
  const init = { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(`${API}${path}`, init);
  if (response.status === 401 && !retried && await askToken()) {
    return request(method, path, body, true);
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!response.ok) {
    const code = parsed && parsed.code ? parsed.code : `http_${response.status}`;
    const message = parsed && parsed.error ? parsed.error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, code, message, parsed);
  }
  return parsed;
}

/** `GET /api/v1{path}` as JSON. */
export const get = (path) => request('GET', path);
/** `POST /api/v1{path}` with a JSON body. */
export const post = (path, body = {}) => request('POST', path, body);

/** `?a=1&b=2` of the defined members of `params`. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A bead's raw output as a Blob (with its content type). */
export async function outputBlob(run, bead) {
  const path = `${API}/runs/${encodeURIComponent(run)}/beads/${encodeURIComponent(bead)}/output`;
  const response = await fetch(path, { headers: headers() });
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
  return response.blob();
}

/** The live indicator in the header. */
function live(state) {
  const el = document.getElementById('live');
  if (el) el.dataset.live = state;
}

/**
 * Follow the live events (one run's with `run`, else every stream's) after
 * seq `after`. Calls `onEvents(batch)` with events in seq order, each seen
 * once; on a dropped connection (or the server dropping a client too slow
 * to keep up) it reconnects after the last event it saw. `close()` stops.
 */
export function follow({ run, after = 0, onEvents }) {
  let last = after;
  let stopped = false;
  let controller = null;
  let delay = 500;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch(`${API}/events${query({ run })}`, {
          headers: headers({ accept: 'text/event-stream', 'last-event-id': String(last) }),
          signal: controller.signal,
        });
        if (response.status === 401) { live('off'); if (!await askToken()) return; continue; }
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        live('on');
        delay = 500;
        await read(response.body);
      } catch (error) {
        if (stopped) return;
      }
      if (stopped) return;
      live('retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 8000);
    }
  }

  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let frame = { id: null, event: 'message', data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || stopped) return;
      buffer += value;
      const batch = [];
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (frame.event === 'message' && frame.data.length) {
            const event = JSON.parse(frame.data.join('\n'));
            if (event.seq > last) { last = event.seq; batch.push(event); }
          }
          frame = { id: null, event: 'message', data: [] };
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') frame.data.push(value);
          else if (field === 'event') frame.event = value;
          else if (field === 'id') frame.id = value;
        }
      }
      if (batch.length) onEvents(batch);
    }
  }

  connect();
  return {
    close() {
      stopped = true;
      live('off');
      if (controller) controller.abort();
    },
    get last() { return last; },
  };
}
