// The engine page: the supervision tree with each child's health, restarts
// and breaker, and the worker pool (idle, busy, dead), refreshed live.

import { get } from './api.js';
import { duration, fill, h, num, runHref, time } from './ui.js';

const REFRESH_MS = 2000;
const FOLD_ABOVE = 12;

/** `ok`, `warn` (it restarted, failed or backed off) or `bad` (breaker not closed). */
export function health(child) {
  if (child.breaker && child.breaker !== 'closed') return 'bad';
  if (child.failures > 0 || child.restarts > 0 || child.backoffs > 0) return 'warn';
  return 'ok';
}

function tree(supervisors) {
  const bySupervisor = new Map(supervisors.map((s) => [s.supervisor, s]));
  const children = new Set(supervisors.flatMap((s) => s.children.map((c) => c.child)));
  const roots = supervisors.filter((s) => !children.has(s.supervisor)).map((s) => s.supervisor);
  const seen = new Set();

  const item = (child) => {
    const below = bySupervisor.get(child.child);
    const state = health(child);
    return h('li', { dataset: { child: child.child, health: state } },
      h('div', { class: 'node-line' },
        h('span', { class: 'health', dataset: { health: state }, title: state }),
        h('b', { class: 'mono' }, child.child),
        h('span', { class: 'muted' }, `starts ${child.starts} · restarts ${child.restarts} (${child.window_restarts} in window) · failures ${child.failures} · stops ${child.stops}`),
        h('span', {}, `breaker ${child.breaker.replace('_', ' ')}`),
        child.backoff_delay_ms ? h('span', {}, `backing off ${duration(child.backoff_delay_ms)}`) : null,
        child.last_reason ? h('span', { class: 'error' }, child.last_reason) : null,
        h('span', { class: 'muted' }, `since ${time(child.updated_at_ms)}`)),
      below ? group(below) : null);
  };

  const group = (supervisor) => {
    if (seen.has(supervisor.supervisor)) return null;
    seen.add(supervisor.supervisor);
    // A big pool folds its healthy children away; the unhealthy stay in sight.
    const many = supervisor.children.length > FOLD_ABOVE;
    const shown = many ? supervisor.children.filter((c) => health(c) !== 'ok') : supervisor.children;
    const folded = many ? supervisor.children.filter((c) => health(c) === 'ok') : [];
    return h('ul', {}, shown.map(item),
      folded.length ? h('li', {}, h('details', {}, h('summary', {}, `${folded.length} healthy children`), h('ul', {}, folded.map(item)))) : null,
      supervisor.escalations ? h('li', { class: 'error' }, `escalated: ${JSON.stringify(supervisor.escalations.record)}`) : null);
  };

  return h('ul', { class: 'tree', 'data-testid': 'supervision-tree' }, roots.map((name) => h('li', { dataset: { child: name, health: 'ok' } },
    h('div', { class: 'node-line' }, h('span', { class: 'health', dataset: { health: 'ok' } }), h('b', { class: 'mono' }, name), h('span', { class: 'muted' }, 'root supervisor')),
    group(bySupervisor.get(name)))));
}

function workers(pool) {
  const squares = pool.workers.map((w) => {
    const state = !w.alive ? 'dead' : w.current_bead ? 'busy' : 'idle';
    const what = w.current_bead ? ` · ${w.current_bead.workflow}/${w.current_bead.bead} (${w.current_bead.state})` : '';
    return h('span', { class: 'worker', dataset: { worker: state }, title: `${w.id}: ${state}${w.labels.length ? ` [${w.labels.join(', ')}]` : ''}${what}` });
  });
  const busy = pool.workers.filter((w) => w.current_bead);
  return [
    h('p', {}, `${num(pool.alive)} alive · ${num(pool.busy)} busy · ${num(pool.idle)} idle · ${num(pool.workers.length - pool.alive)} dead`),
    h('div', { class: 'workers', 'data-testid': 'workers' }, squares),
    busy.length ? h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'worker'), h('th', {}, 'run'), h('th', {}, 'bead'), h('th', {}, 'state'))),
      h('tbody', {}, busy.slice(0, 200).map((w) => h('tr', {},
        h('td', { class: 'mono' }, w.id),
        h('td', { class: 'mono' }, h('a', { href: runHref(w.current_bead.workflow), 'data-nav': true }, w.current_bead.workflow)),
        h('td', { class: 'mono' }, w.current_bead.bead),
        h('td', {}, w.current_bead.state))))) : null,
  ];
}

/** Show the engine in `main`; returns what stops it. */
export function mount(main) {
  const box = h('div');
  fill(main, h('h1', {}, 'Engine'), box);
  let stopped = false;
  const refresh = async () => {
    try {
      const view = await get('/engine');
      if (stopped) return;
      const children = view.supervisors.flatMap((s) => s.children);
      const unhealthy = children.filter((c) => health(c) !== 'ok').length;
      fill(box,
        h('div', { class: 'panel' }, h('p', {}, `up ${duration(view.uptime_ms)} · ${children.length} supervised children, ${unhealthy} not healthy · log at seq ${num(view.seq)}`)),
        h('div', { class: 'panel' }, h('h2', {}, 'Supervision tree'), tree(view.supervisors)),
        h('div', { class: 'panel' }, h('h2', {}, 'Workers'), workers(view.workers)));
    } catch (error) {
      if (!stopped) fill(box, h('p', { class: 'error' }, error.message));
    }
  };
  refresh();
  const timer = setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}
