// The log page: the writer's counters and the last checkpoint (refreshed),
// and the most recent events of every stream, live from the durable end.

import { follow, get } from './api.js';
import { table } from './events.js';
import { bytes, fill, h, num, throttle, time } from './ui.js';

const REFRESH_MS = 2000;
const RECENT = 200;

function stats(view) {
  const log = view.log;
  const cell = (label, value) => h('div', { class: 'count' }, h('b', {}, value), h('span', {}, label));
  const checkpoint = view.last_checkpoint;
  return [
    h('div', { class: 'counts', 'data-testid': 'log-stats' },
      cell('last seq', num(log.last_seq)),
      cell('appends', num(log.appends)),
      cell('events', num(log.events)),
      cell('bytes', bytes(log.bytes)),
      cell('fsyncs', num(log.fsyncs)),
      cell('events per fsync', log.events_per_fsync.toFixed(1)),
      cell('writer queue', num(log.queue_depth))),
    h('p', { class: 'muted' }, checkpoint
      ? `last checkpoint: ${checkpoint.name} at seq ${num(checkpoint.seq)}, ${time(checkpoint.at_ms)}`
      : 'no checkpoint since the log was opened'),
    h('p', { class: 'muted' }, 'Counters count since this engine started.'),
  ];
}

/** Show the log in `main`; returns what stops it. */
export function mount(main) {
  const statBox = h('div', { class: 'panel' });
  const eventBox = h('div', { class: 'panel' }, h('h2', {}, 'Recent events'), h('p', { class: 'muted' }, 'Waiting for events…'));
  fill(main, h('h1', {}, 'Log'), statBox, eventBox);
  let stopped = false;
  let stream = null;
  const recent = [];
  const draw = throttle(() => {
    fill(eventBox, h('h2', {}, 'Recent events'), h('div', { class: 'events' }, table(recent, { withStream: true })));
  }, 300);
  const refresh = async () => {
    try {
      const view = await get('/engine');
      if (stopped) return;
      fill(statBox, ...stats(view));
      if (!stream) {
        stream = follow({
          after: Math.max(0, view.log.last_seq - RECENT),
          onEvents: (batch) => {
            recent.push(...batch);
            if (recent.length > RECENT) recent.splice(0, recent.length - RECENT);
            draw();
          },
        });
      }
    } catch (error) {
      if (!stopped) fill(statBox, h('p', { class: 'error' }, error.message));
    }
  };
  refresh();
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); draw.cancel(); if (stream) stream.close(); };
}
