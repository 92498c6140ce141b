// The bead panel of a run page: what one bead is, its attempts (from the
// run's events), its last error, its output and log tail, and a retry.

import { outputBlob } from './api.js';
import { body } from './events.js';
import { bytes, duration, h, pill, time, toast } from './ui.js';

const ENDS = {
  bead_completed: 'completed',
  bead_completed_with_output: 'completed',
  bead_failed: 'failed',
  bead_timed_out: 'timed_out',
};

/** Every attempt of `bead` in `events` (a run's, seq order): start, end, outcome. */
export function attempts(events, bead) {
  const byNumber = new Map();
  for (const ev of events) {
    const b = body(ev);
    if (b.bead !== bead) continue;
    if (ev.kind === 'bead_started') {
      byNumber.set(b.attempt, { attempt: b.attempt, worker: b.worker, started: ev.at_ms, ended: null, outcome: 'running', note: '' });
    } else if (ENDS[ev.kind] && byNumber.has(b.attempt)) {
      const a = byNumber.get(b.attempt);
      a.ended = ev.at_ms;
      a.outcome = ENDS[ev.kind];
      a.note = b.error || b.reason || '';
    } else if (ev.kind === 'bead_cancelled') {
      for (const a of byNumber.values()) {
        if (a.ended === null) { a.ended = ev.at_ms; a.outcome = 'cancelled'; a.note = b.reason || ''; }
      }
    }
  }
  return [...byNumber.values()].sort((x, y) => x.attempt - y.attempt);
}

function download(run, bead) {
  outputBlob(run, bead).then((blob) => {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `${bead}.out` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }, (error) => toast(`output: ${error.message}`, 'error'));
}

function output(run, bead, shown) {
  if (!shown) return h('p', { class: 'muted' }, 'No output yet.');
  const head = h('div', { class: 'row muted' },
    h('span', {}, `${shown.content_type || 'bytes'} · ${bytes(shown.size)}${shown.truncated ? ' (first part shown)' : ''}`),
    h('button', { type: 'button', onclick: () => download(run, bead) }, 'Download'));
  if (shown.size === 0) return [head, h('p', { class: 'muted' }, 'Empty.')];
  if (shown.encoding === 'utf8') return [head, h('pre', { class: 'output' }, shown.data)];
  return [head, h('p', { class: 'muted' }, 'Binary output: download it to look at it.')];
}

/**
 * The panel for `bead` (a `BeadView`) of run `run` (`status` its state);
 * `history` is the run's events when loaded (else null); `onRetry(bead)`
 * asks for a retry from it.
 */
export function panel({ run, status, bead, history, onRetry }) {
  if (!bead) {
    return h('div', { class: 'panel bead-panel' }, h('h2', {}, 'Bead'), h('p', { class: 'muted' }, 'Click a bead in the graph or the list to see its attempts, errors and output.'));
  }
  const canRetry = ['failed', 'cancelled'].includes(status) && ['failed', 'timed_out', 'cancelled'].includes(bead.state);
  const tried = history ? attempts(history, bead.id) : null;
  return h('div', { class: 'panel bead-panel', dataset: { bead: bead.id, state: bead.state } },
    h('div', { class: 'row' }, h('h2', { class: 'grow mono' }, bead.id), pill(bead.state)),
    h('dl', {},
      h('dt', {}, 'attempts'), h('dd', { 'data-field': 'attempts' }, bead.attempts),
      h('dt', {}, 'worker'), h('dd', {}, bead.worker || '—'),
      h('dt', {}, 'updated'), h('dd', {}, time(bead.updated_at_ms)),
      bead.retry_at_ms ? [h('dt', {}, 'retry at'), h('dd', {}, time(bead.retry_at_ms))] : null,
      bead.cancel_reason ? [h('dt', {}, 'cancelled'), h('dd', {}, bead.cancel_reason)] : null),
    canRetry ? h('button', { type: 'button', onclick: () => onRetry(bead.id) }, 'Retry from this bead') : null,
    h('h2', {}, 'Attempts'),
    tried === null ? h('p', { class: 'muted' }, 'Reading the run\'s events…')
      : tried.length === 0 ? h('p', { class: 'muted' }, 'Not started yet.')
        : h('table', { class: 'attempts' },
          h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'worker'), h('th', {}, 'started'), h('th', {}, 'took'), h('th', {}, 'outcome'))),
          h('tbody', {}, tried.map((a) => [
            h('tr', {},
              h('td', { class: 'num' }, a.attempt), h('td', {}, a.worker || '—'), h('td', {}, time(a.started)),
              h('td', {}, a.ended === null ? '…' : duration(a.ended - a.started)), h('td', {}, pill(a.outcome))),
            a.note ? h('tr', {}, h('td', { colspan: 5, class: 'error' }, a.note)) : null,
          ]))),
    bead.last_error ? [h('h2', {}, 'Last error'), h('pre', { class: 'error' }, bead.last_error)] : null,
    h('h2', {}, 'Output'),
    output(run, bead.id, bead.output),
    bead.log_tail ? [h('h2', {}, 'Log tail'), h('pre', {}, bead.log_tail)] : null);
}
