// The runs page: counts by state (live), filters kept in the URL, the runs
// newest first with cursor pages, and a form to start a run.

import { ApiError, get, post, query } from './api.js';
import { RUN_STATES, counts, duration, fill, h, pill, runHref, time, toast } from './ui.js';

const PAGE = 50;
const REFRESH_MS = 2000;

class RunsPage {
  constructor(main, navigate) {
    this.main = main;
    this.navigate = navigate;
    const params = new URLSearchParams(location.search);
    this.filter = { state: params.get('state') || '', definition: params.get('definition') || '' };
    this.shown = PAGE;
    this.next = null;
  }

  start() {
    this.countBox = h('div', { class: 'run-counts' });
    this.tableBox = h('div', { class: 'panel' });
    fill(this.main, h('div', { class: 'row' }, h('h1', { class: 'grow' }, 'Runs')), this.countBox, this.filters(), this.startForm(), this.tableBox);
    this.refresh();
    this.timer = setInterval(() => { if (!document.hidden) this.refresh(); }, REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.stopped = true;
  }

  filters() {
    const state = h('select', { name: 'state', 'aria-label': 'state' },
      h('option', { value: '' }, 'every state'),
      RUN_STATES.map((s) => h('option', { value: s, selected: this.filter.state === s }, s)));
    const definition = h('input', { name: 'definition', type: 'search', placeholder: 'definition', 'aria-label': 'definition', value: this.filter.definition });
    const form = h('form', { class: 'panel row', onsubmit: (e) => { e.preventDefault(); this.setFilter({ state: state.value, definition: definition.value.trim() }); } },
      h('label', {}, 'State ', state), h('label', {}, 'Definition ', definition), h('button', { type: 'submit' }, 'Filter'));
    state.addEventListener('change', () => form.requestSubmit());
    return form;
  }

  setFilter(filter) {
    this.filter = filter;
    this.shown = PAGE;
    history.replaceState(null, '', `/ui/runs${query(filter)}`);
    this.stop();
    this.stopped = false;
    this.start();
  }

  startForm() {
    const workflow = h('textarea', { name: 'workflow', rows: 8, cols: 80, class: 'mono', placeholder: 'name = "nightly"\n\n[[task]]\nid = "extract"\nrun = "echo hello"', 'aria-label': 'workflow file' });
    const id = h('input', { name: 'id', placeholder: 'run id (optional: makes the start idempotent)', size: 40, 'aria-label': 'run id' });
    const input = h('input', { name: 'input', placeholder: 'input as JSON, e.g. {"day": "2026-12-03"}', size: 40, 'aria-label': 'input' });
    const form = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      let parsed;
      try { parsed = input.value.trim() ? JSON.parse(input.value) : undefined; } catch (error) { toast(`input is not JSON: ${error.message}`, 'error'); return; }
      try {
        const started = await post('/runs', { workflow: workflow.value, id: id.value.trim() || undefined, input: parsed });
        toast(started.existing ? `${started.run} was already there` : `started ${started.run}`);
        this.navigate(runHref(started.run));
      } catch (error) {
        toast(error instanceof ApiError ? `${error.code}: ${error.message}` : error.message, 'error');
      }
    } }, workflow, h('div', { class: 'row' }, id, input, h('button', { type: 'submit', class: 'primary' }, 'Start')));
    return h('details', { class: 'panel' }, h('summary', {}, 'Start a run'), form);
  }

  async refresh() {
    try {
      const [overview, list] = await Promise.all([
        get('/status'),
        get(`/runs${query({ ...this.filter, limit: Math.min(this.shown, 1000) })}`),
      ]);
      if (this.stopped) return;
      this.drawCounts(overview);
      this.next = list.next;
      this.drawTable(list.runs);
    } catch (error) {
      if (!this.stopped) fill(this.tableBox, h('p', { class: 'error' }, error.message));
    }
  }

  drawCounts(overview) {
    const tally = Object.fromEntries(RUN_STATES.map((s) => [s, 0]));
    let paused = 0;
    for (const run of overview.workflows) {
      tally[run.status] = (tally[run.status] || 0) + 1;
      if (run.paused) paused += 1;
    }
    const items = RUN_STATES.map((state) => ({ state, count: tally[state] }));
    items.push({ state: 'paused', count: paused });
    const workers = overview.workers;
    fill(this.countBox, counts(items, {
      picked: this.filter.state,
      onPick: (state) => { if (state !== 'paused') this.setFilter({ ...this.filter, state: this.filter.state === state ? '' : state }); },
    }), h('p', { class: 'muted' }, `${overview.workflows.length} runs · ${workers.alive} of ${workers.total} workers alive · log at seq ${overview.seq}`));
  }

  drawTable(runs) {
    if (runs.length === 0) {
      fill(this.tableBox, h('p', { class: 'muted' }, 'No runs match. Start one with `strand run FILE`, `POST /api/v1/runs`, or the form above.'));
      return;
    }
    const rows = runs.map((run) => {
      const done = run.beads.completed;
      const total = run.beads.total || 1;
      const took = (run.finished_at_ms ?? Date.now()) - run.started_at_ms;
      return h('tr', { dataset: { run: run.id, state: run.state } },
        h('td', { class: 'mono' }, h('a', { href: runHref(run.id), 'data-nav': true }, run.id)),
        h('td', {}, run.definition),
        h('td', {}, pill(run.state), run.paused ? [' ', pill('paused')] : null),
        h('td', {}, progress(run.state, done / total), `${done}/${run.beads.total}`),
        h('td', {}, time(run.started_at_ms)),
        h('td', {}, duration(took)),
        h('td', { class: 'error' }, run.reason || ''));
    });
    const more = this.next ? h('button', { type: 'button', onclick: () => { this.shown += PAGE; this.refresh(); } }, 'Older runs') : null;
    fill(this.tableBox, h('table', { class: 'runs' },
      h('thead', {}, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'definition'), h('th', {}, 'state'), h('th', {}, 'beads'), h('th', {}, 'started'), h('th', {}, 'took'), h('th', {}, 'reason'))),
      h('tbody', {}, rows)), more);
  }
}

/** A bar `fraction` full (a style property: the page's policy refuses style attributes). */
function progress(state, fraction) {
  const bar = h('i');
  bar.style.width = `${Math.round(100 * fraction)}%`;
  return h('span', { class: 'progress', dataset: { state } }, bar);
}

/** Show the runs in `main`; returns what stops it. */
export function mount(main, { navigate }) {
  const page = new RunsPage(main, navigate);
  page.start();
  return () => page.stop();
}
