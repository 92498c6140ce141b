// A run's page: its state and controls, its DAG coloured by bead state and
// kept live by the run's event stream, a bead's panel on click, the bead
// list and the run's recent events. Events are applied as they arrive; a
// fetch of the run now and then (and after every run-level event) brings
// in what events do not carry (outputs, timings), and the events newer
// than that fetch are applied again on top, so nothing seen is undone.

import { ApiError, follow, get, post } from './api.js';
import { panel } from './bead.js';
import { DagView } from './dag.js';
import { body, table } from './events.js';
import { BEAD_STATES, ask, counts, duration, fill, h, pill, throttle, time, toast } from './ui.js';

const BEAD_EVENTS = {
  bead_ready: 'ready',
  bead_scheduled: 'scheduled',
  bead_started: 'running',
  bead_completed: 'completed',
  bead_completed_with_output: 'completed',
  bead_failed: 'failed',
  bead_timed_out: 'timed_out',
  bead_cancelled: 'cancelled',
};
const RUN_EVENTS = new Set(['workflow_completed', 'workflow_failed', 'workflow_cancelled', 'run_paused', 'run_resumed', 'run_retried']);
const RECENT = 300;
const HISTORY_PAGE = 2560;

const CONTROLS = {
  cancel: { label: 'Cancel', danger: true, text: 'Cancel this run? Running beads are stopped; nothing more starts.', reason: 'cancelled by an operator' },
  pause: { label: 'Pause', text: 'Pause this run? Running beads finish; nothing new starts until it is resumed.', reason: 'paused by an operator' },
  resume: { label: 'Resume', text: 'Resume this run? Its ready beads start again.' },
  retry: { label: 'Retry', text: 'Retry this run? Every failed, timed-out or cancelled bead runs again, and what depends on them.' },
};

class RunPage {
  constructor(main, id) {
    this.main = main;
    this.id = id;
    this.beads = new Map();
    this.recent = [];
    this.history = null;
    this.selected = null;
    this.stateFilter = null;
    this.search = '';
    this.renderLists = throttle(() => { this.drawEvents(); this.drawBeadList(); }, 300);
    this.reconcileSoon = throttle(() => this.reconcile(), 1500);
  }

  async start() {
    fill(this.main, h('p', { class: 'muted' }, 'Loading…'));
    let detail;
    let dag;
    try {
      [detail, dag] = await Promise.all([get(`/runs/${encodeURIComponent(this.id)}`), get(`/runs/${encodeURIComponent(this.id)}/dag`)]);
    } catch (error) {
      const missing = error instanceof ApiError && error.code === 'unknown_run';
      fill(this.main, h('div', { class: 'panel' }, h('h1', {}, this.id), h('p', { class: 'error' }, missing ? 'No such run.' : error.message)));
      return;
    }
    if (this.stopped) return;
    this.layout();
    this.dag = new DagView(this.dagBox, dag, { onSelect: (bead) => this.select(bead) });
    this.take(detail);
    this.stream = follow({ run: this.id, after: detail.seq, onEvents: (batch) => this.onEvents(batch) });
  }

  stop() {
    this.stopped = true;
    if (this.stream) this.stream.close();
    this.renderLists.cancel();
    this.reconcileSoon.cancel();
  }

  layout() {
    this.head = h('div', { class: 'panel run-head' });
    this.countBox = h('div');
    this.dagBox = h('div', { class: 'dag-wrap', 'data-testid': 'dag' });
    const searchBox = h('input', { type: 'search', placeholder: 'find a bead', 'aria-label': 'find a bead', oninput: (e) => { this.search = e.target.value.trim(); this.applyFilter(); } });
    searchBox.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { const kept = this.applyFilter(); if (kept.length) { this.dag.focus(kept[0]); this.select(kept[0]); } }
    });
    this.dagBox.append(h('div', { class: 'dag-tools' }, searchBox, h('button', { type: 'button', title: 'zoom in', onclick: () => this.dag.zoom(1 / 1.5) }, '+'),
      h('button', { type: 'button', title: 'zoom out', onclick: () => this.dag.zoom(1.5) }, '−'),
      h('button', { type: 'button', title: 'show the whole graph', onclick: () => this.dag.fit() }, 'Fit')));
    this.panelBox = h('div');
    this.beadList = h('div', { class: 'panel' });
    this.eventBox = h('div', { class: 'panel' });
    const legend = h('div', { class: 'legend' }, BEAD_STATES.map((s) => h('span', {}, h('span', { class: 'swatch', dataset: { state: s } }), s.replace('_', ' '))));
    fill(this.main, this.head, this.countBox,
      h('div', { class: 'run-body' }, h('div', {}, this.dagBox, legend), this.panelBox),
      this.beadList, this.eventBox);
  }

  /** Take a fetched `RunDetail` as the truth, then re-apply newer events. */
  take(detail) {
    this.detail = detail;
    this.beads = new Map(detail.beads.map((b) => [b.id, { ...b }]));
    for (const ev of this.recent) if (ev.seq > detail.seq) this.apply(ev);
    for (const bead of this.beads.values()) this.dag.setState(bead.id, bead.state, attemptsText(bead));
    this.drawHead();
    this.drawCounts();
    this.drawPanel();
    this.renderLists();
    this.applyFilter();
  }

  async reconcile() {
    try {
      const detail = await get(`/runs/${encodeURIComponent(this.id)}`);
      if (!this.stopped) this.take(detail);
    } catch (error) {
      if (!this.stopped) toast(`refresh: ${error.message}`, 'error');
    }
  }

  onEvents(batch) {
    let runLevel = false;
    for (const ev of batch) {
      this.recent.push(ev);
      if (this.history) this.history.push(ev);
      this.apply(ev);
      if (RUN_EVENTS.has(ev.kind)) runLevel = true;
    }
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
    this.drawHead();
    this.drawCounts();
    this.drawPanel();
    this.renderLists();
    if (this.stateFilter) this.applyFilter();
    if (runLevel) this.reconcile(); else this.reconcileSoon();
  }

  /** One event's effect on what the page shows. */
  apply(ev) {
    const b = body(ev);
    const state = BEAD_EVENTS[ev.kind];
    if (state && this.beads.has(b.bead)) {
      const bead = this.beads.get(b.bead);
      bead.state = state;
      bead.updated_at_ms = ev.at_ms;
      if (b.attempt) bead.attempts = Math.max(bead.attempts, b.attempt);
      if (b.worker) bead.worker = b.worker;
      if (b.error) bead.last_error = b.error;
      if (ev.kind === 'bead_cancelled') bead.cancel_reason = b.reason;
      this.dag.setState(bead.id, state, attemptsText(bead));
      return;
    }
    const run = this.detail.workflow;
    if (ev.kind === 'workflow_completed') { run.status = 'completed'; run.finished_at_ms = ev.at_ms; }
    else if (ev.kind === 'workflow_failed') { run.status = 'failed'; run.finished_at_ms = ev.at_ms; run.reason = b.reason || b.error || run.reason; }
    else if (ev.kind === 'workflow_cancelled') { run.status = 'cancelled'; run.finished_at_ms = ev.at_ms; run.reason = b.reason || run.reason; }
    else if (ev.kind === 'run_paused') run.paused = true;
    else if (ev.kind === 'run_resumed') run.paused = false;
    else if (ev.kind === 'run_retried') { run.status = 'running'; run.finished_at_ms = null; }
  }

  drawHead() {
    const run = this.detail.workflow;
    const took = run.finished_at_ms ? run.finished_at_ms - run.submitted_at_ms : Date.now() - run.submitted_at_ms;
    const enabled = {
      cancel: run.status === 'running',
      pause: run.status === 'running' && !run.paused,
      resume: run.status === 'running' && run.paused,
      retry: run.status === 'failed' || run.status === 'cancelled',
    };
    const buttons = Object.entries(CONTROLS).map(([name, c]) => h('button', {
      type: 'button', 'data-control': name, class: c.danger ? 'danger' : undefined, disabled: !enabled[name], onclick: () => this.control(name),
    }, c.label));
    fill(this.head,
      h('div', { class: 'row' },
        h('div', { class: 'grow' },
          h('h1', { class: 'mono' }, run.id),
          h('div', { class: 'row muted' },
            h('span', { 'data-testid': 'run-state', dataset: { state: run.status } }, pill(run.status)),
            run.paused ? pill('paused') : null,
            h('span', {}, `definition ${run.name} · ${run.definition.slice(0, 12)}`),
            h('span', {}, `submitted ${time(run.submitted_at_ms)}`),
            h('span', {}, run.finished_at_ms ? `finished ${time(run.finished_at_ms)} · took ${duration(took)}` : `running for ${duration(took)}`))),
        h('div', { class: 'controls' }, buttons)),
      run.reason ? h('p', { class: 'error' }, run.reason) : null,
      Object.keys(this.detail.input || {}).length ? h('details', {}, h('summary', {}, 'input'), h('pre', {}, JSON.stringify(this.detail.input, null, 2))) : null);
  }

  drawCounts() {
    const tally = Object.fromEntries(BEAD_STATES.map((s) => [s, 0]));
    for (const bead of this.beads.values()) tally[bead.state] = (tally[bead.state] || 0) + 1;
    const items = BEAD_STATES.map((state) => ({ state, count: tally[state] }));
    fill(this.countBox, counts(items, {
      picked: this.stateFilter,
      onPick: (state) => { this.stateFilter = this.stateFilter === state ? null : state; this.drawCounts(); this.applyFilter(); this.drawBeadList(); },
    }));
  }

  applyFilter() {
    const { search, stateFilter } = this;
    if (!search && !stateFilter) return this.dag.filter(null);
    return this.dag.filter((id, state) => (!search || id.includes(search)) && (!stateFilter || state === stateFilter));
  }

  select(bead) {
    this.selected = bead;
    this.dag.select(bead);
    this.drawPanel();
    if (!this.history) this.loadHistory();
  }

  drawPanel() {
    const bead = this.selected ? this.beads.get(this.selected) : null;
    fill(this.panelBox, panel({
      run: this.id, status: this.detail.workflow.status, bead, history: this.history, onRetry: (id) => this.control('retry', [id]),
    }));
  }

  /** Every event of the run (for the attempts), read once, then kept live. */
  async loadHistory() {
    if (this.loadingHistory) return;
    this.loadingHistory = true;
    const events = [];
    let after = 0;
    try {
      for (;;) {
        const page = await get(`/runs/${encodeURIComponent(this.id)}/events?after=${after}&limit=${HISTORY_PAGE}`);
        events.push(...page.events);
        if (page.next === null || this.stopped) break;
        after = page.next;
      }
    } catch (error) {
      toast(`events: ${error.message}`, 'error');
      this.loadingHistory = false;
      return;
    }
    const last = events.length ? events[events.length - 1].seq : 0;
    this.history = events.concat(this.recent.filter((ev) => ev.seq > last));
    this.drawPanel();
  }

  async control(name, beads) {
    const c = CONTROLS[name];
    const text = beads ? `Retry ${beads.join(', ')} and what depends on it?` : c.text;
    const answer = await ask({ title: `${c.label} ${this.id}`, text, confirm: c.label, danger: c.danger, reason: c.reason });
    if (!answer) return;
    try {
      const result = await post(`/runs/${encodeURIComponent(this.id)}/${name}`, { reason: answer.reason, beads });
      toast(result.applied_already ? `${name}: nothing to do` : `${name}: done (${result.events_written} events)`);
    } catch (error) {
      toast(`${name}: ${error.message}`, 'error');
    }
    this.reconcile();
  }

  drawBeadList() {
    const shown = [...this.beads.values()].filter((b) => (!this.stateFilter || b.state === this.stateFilter) && (!this.search || b.id.includes(this.search)));
    const rows = shown.slice(0, 1000).map((b) => h('tr', { dataset: { bead: b.id, state: b.state }, onclick: () => { this.select(b.id); this.dag.focus(b.id); } },
      h('td', { class: 'mono' }, h('a', { href: '#', onclick: (e) => e.preventDefault() }, b.id)),
      h('td', {}, pill(b.state)),
      h('td', { class: 'num' }, b.attempts),
      h('td', {}, b.worker || '—'),
      h('td', {}, time(b.updated_at_ms)),
      h('td', { class: 'error' }, b.last_error || '')));
    fill(this.beadList,
      h('h2', {}, `Beads (${shown.length}${shown.length === this.beads.size ? '' : ` of ${this.beads.size}`})`),
      h('div', { class: 'events' }, h('table', { class: 'beads' },
        h('thead', {}, h('tr', {}, h('th', {}, 'bead'), h('th', {}, 'state'), h('th', { class: 'num' }, 'attempts'), h('th', {}, 'worker'), h('th', {}, 'updated'), h('th', {}, 'last error'))),
        h('tbody', {}, rows))));
  }

  drawEvents() {
    fill(this.eventBox, h('h2', {}, 'Recent events'),
      this.recent.length ? h('div', { class: 'events' }, table(this.recent)) : h('p', { class: 'muted' }, 'None since the page opened.'));
  }
}

function attemptsText(bead) {
  return bead.attempts > 1 ? `${bead.attempts} attempts` : '';
}

/** Show run `run` in `main`; returns what stops it. */
export function mount(main, { run }) {
  const page = new RunPage(main, run);
  page.start();
  return () => page.stop();
}
