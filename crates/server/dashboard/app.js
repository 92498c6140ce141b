// The dashboard's entry: routes the path under /ui to a page, and keeps
// navigation inside the page (links marked data-nav) so the live streams
// of the page left are closed, not leaked.

import * as engine from './engine.js';
import * as log from './log.js';
import * as run from './run.js';
import * as runs from './runs.js';
import { fill, h } from './ui.js';

const main = document.getElementById('page');
let unmount = null;

function route() {
  const path = location.pathname.replace(/\/+$/, '');
  if (path === '' || path === '/ui' || path === '/ui/runs') return { section: 'runs', page: runs, params: {} };
  if (path.startsWith('/ui/runs/')) return { section: 'runs', page: run, params: { run: decodeURIComponent(path.slice('/ui/runs/'.length)) } };
  if (path === '/ui/engine') return { section: 'engine', page: engine, params: {} };
  if (path === '/ui/log') return { section: 'log', page: log, params: {} };
  return null;
}

function show() {
  if (unmount) unmount();
  unmount = null;
  const found = route();
  for (const link of document.querySelectorAll('nav a[data-section]')) {
    if (found && link.dataset.section === found.section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!found) {
    fill(main, h('div', { class: 'panel' }, h('h1', {}, 'Not found'), h('p', {}, 'No such page. '), h('a', { href: '/ui/runs', 'data-nav': true }, 'The runs')));
    return;
  }
  document.title = found.params.run ? `${found.params.run} · Strand` : `${found.section[0].toUpperCase()}${found.section.slice(1)} · Strand`;
  unmount = found.page.mount(main, { ...found.params, navigate });
}

/** Go to `href` (a path under /ui) without reloading. */
export function navigate(href) {
  history.pushState(null, '', href);
  show();
  window.scrollTo(0, 0);
}

document.addEventListener('click', (e) => {
  const link = e.target.closest('a[data-nav]');
  if (!link || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(link.getAttribute('href'));
});
window.addEventListener('popstate', show);
show();
