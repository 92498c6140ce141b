// Log events as the pages show them: one line each (seq, time, kind, what
// it names, what it says).

import { h, time } from './ui.js';

/** The event's fields (`{ "BeadStarted": { ... } }` → `{ ... }`). */
export function body(ev) {
  const value = ev.event;
  if (value && typeof value === 'object') {
    const inner = Object.values(value)[0];
    if (inner && typeof inner === 'object') return inner;
  }
  return {};
}

/** What the event is about, and what it says, in a few words. */
export function summary(ev) {
  const b = body(ev);
  const parts = [];
  if (b.bead) parts.push(b.bead);
  if (b.child) parts.push(`${b.supervisor}/${b.child}`);
  if (b.attempt) parts.push(`attempt ${b.attempt}`);
  if (b.worker && !b.bead) parts.push(b.worker);
  else if (b.worker) parts.push(`on ${b.worker}`);
  if (b.error) parts.push(b.error);
  if (b.reason) parts.push(b.reason);
  if (b.name && ev.kind === 'run_submitted') parts.push(`${b.name}, ${b.tasks ? b.tasks.length : 0} beads`);
  if (b.beads && Array.isArray(b.beads)) parts.push(b.beads.length ? b.beads.join(', ') : 'every failed bead');
  if (b.output && typeof b.output === 'object' && b.output.bytes !== undefined) {
    parts.push(`output, ${b.output.bytes.length} bytes`);
  }
  return parts.join(' · ');
}

/** A table of events, newest first; `withStream` adds the stream column. */
export function table(events, { withStream = false } = {}) {
  const rows = [];
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const ev = events[i];
    rows.push(h('tr', { dataset: { seq: String(ev.seq), kind: ev.kind } },
      h('td', { class: 'num mono' }, ev.seq),
      h('td', { class: 'mono' }, time(ev.at_ms)),
      withStream ? h('td', { class: 'mono' }, ev.stream) : null,
      h('td', { class: 'kind mono' }, ev.kind),
      h('td', {}, summary(ev))));
  }
  return h('table', { class: 'events-table' },
    h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'seq'), h('th', {}, 'time'), withStream ? h('th', {}, 'stream') : null, h('th', {}, 'kind'), h('th', {}, ''))),
    h('tbody', {}, rows));
}
