// The dashboard in a real browser: playwright-core drives Debian's Chromium
// headless against a real `strand serve` on a fresh data directory. Beads
// that must stay running block on a FIFO the test writes when it wants them
// to finish, so nothing here waits on a clock. Screenshots of each page go
// under target/dashboard/ for people to look at.
//
// Run by `make browser` (part of `make test`); STRAND_BIN names the binary.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STRAND = process.env.STRAND_BIN ?? join(ROOT, 'target', 'debug', 'strand');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS ?? join(ROOT, 'target', 'dashboard');
const WAIT = { timeout: 30_000 };

let dir;
let server;
let base;
let browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strand-dashboard-'));
  mkdirSync(SHOTS, { recursive: true });
  server = spawn(STRAND, ['--data', join(dir, 'data'), 'serve', '--listen', '127.0.0.1:0', '--workers', '8', '--grace', '1s', '-o', 'json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: server.stdout });
  const first = await new Promise((ok, fail) => {
    lines.once('line', ok);
    server.once('exit', (code) => fail(new Error(`strand serve exited with ${code} before listening`)));
  });
  base = `http://${JSON.parse(first).listening}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server.once('exit', ok));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A FIFO a bead reads (`read line < FIFO`): it runs until `open(fifo)`. */
function fifo(name) {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path]);
  assert.equal(made.status, 0, `mkfifo ${path}`);
  return path;
}

/** Let the bead blocked on `path` finish (no-op if nothing reads it). */
function open(path) {
  let fd;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (error.code === 'ENXIO') return false;
    throw error;
  }
  writeSync(fd, 'go\n');
  closeSync(fd);
  return true;
}

async function api(method, path, body) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

const startRun = (workflow, id) => api('POST', '/runs', { workflow, id });

async function page() {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const p = await context.newPage();
  const problems = [];
  p.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  p.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  p.problems = problems;
  return p;
}

function shot(p, name) {
  return p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test('given a run started through the API, when the runs page opens, then it lists the run with its state', async () => {
  const { run } = await startRun('name = "listed"\n\n[[task]]\nid = "only"\nrun = "echo listed"\n', 'listed-run-1');
  const p = await page();
  await p.goto(`${base}/ui/runs`);
  const row = p.locator(`tr[data-run="${run}"]`);
  await row.waitFor(WAIT);
  await p.locator(`tr[data-run="${run}"][data-state="completed"]`).waitFor(WAIT);
  assert.equal(await row.locator('td').nth(1).textContent(), 'listed');
  await p.locator('.count[data-state="completed"]:not([data-count="0"])').waitFor(WAIT);
  await shot(p, 'runs');
  await row.locator('a').click();
  await p.waitForURL(`${base}/ui/runs/${run}`);
  await p.locator('.node[data-bead="only"][data-state="completed"]').waitFor(WAIT);
  assert.deepEqual(p.problems, []);
  await p.close();
});

test('given a running bead, when it completes, then the run page turns it completed without a reload', async () => {
  const gate = fifo('gate');
  const workflow = [
    'name = "gated"', '',
    '[[task]]', 'id = "first"', 'run = "echo first"', '',
    '[[task]]', 'id = "gate"', `run = "read line < '${gate}'; echo gate opened"`, 'deps = ["first"]', '',
    '[[task]]', 'id = "last"', 'run = "echo last"', 'deps = ["gate"]', '',
  ].join('\n');
  const { run } = await startRun(workflow, 'gated-run-1');
  const p = await page();
  let navigations = 0;
  p.on('framenavigated', (frame) => { if (frame === p.mainFrame()) navigations += 1; });
  await p.goto(`${base}/ui/runs/${run}`);
  await p.locator('[data-testid="dag"] .node').first().waitFor(WAIT);
  assert.equal(await p.locator('[data-testid="dag"] .node').count(), 3);
  await p.locator('.node[data-bead="gate"][data-state="running"]').waitFor(WAIT);
  assert.equal(await p.locator('.node[data-bead="last"]').getAttribute('data-state'), 'pending');
  await shot(p, 'run-running');
  await p.evaluate(() => { window.stillTheSamePage = true; });
  const loadsBefore = navigations;

  assert.ok(open(gate), 'the gate bead was reading its FIFO');
  await p.locator('.node[data-bead="gate"][data-state="completed"]').waitFor(WAIT);
  await p.locator('[data-testid="run-state"][data-state="completed"]').waitFor(WAIT);
  assert.equal(await p.locator('.node[data-bead="last"]').getAttribute('data-state'), 'completed');
  assert.equal(await p.evaluate(() => window.stillTheSamePage), true);
  assert.equal(navigations, loadsBefore);

  await p.locator('.node[data-bead="gate"]').click();
  const panel = p.locator('.bead-panel[data-bead="gate"]');
  await panel.locator('pre.output', { hasText: 'gate opened' }).waitFor(WAIT);
  await panel.locator('table.attempts td', { hasText: 'completed' }).waitFor(WAIT);
  await shot(p, 'run');
  assert.deepEqual(p.problems, []);
  await p.close();
});

test('given a running run, when cancel is clicked and confirmed on its page, then the run is cancelled', async () => {
  const hold = fifo('hold');
  const workflow = `name = "held"\n\n[[task]]\nid = "hold"\nrun = "read line < '${hold}'"\n\n[[task]]\nid = "after"\nrun = "echo never"\ndeps = ["hold"]\n`;
  const { run } = await startRun(workflow, 'held-run-1');
  const p = await page();
  await p.goto(`${base}/ui/runs/${run}`);
  await p.locator('.node[data-bead="hold"][data-state="running"]').waitFor(WAIT);

  // Asked first: saying no changes nothing.
  await p.locator('button[data-control="cancel"]').click();
  await p.locator('dialog.ask').waitFor(WAIT);
  await p.locator('dialog.ask button[data-answer="no"]').click();
  await p.locator('dialog.ask').waitFor({ state: 'detached', ...WAIT });
  assert.equal((await api('GET', `/runs/${run}`)).workflow.status, 'running');

  await p.locator('button[data-control="cancel"]').click();
  await p.locator('dialog.ask input[name="reason"]').fill('stopped from the dashboard test');
  await shot(p, 'run-cancel-dialog');
  await p.locator('dialog.ask button[data-answer="yes"]').click();
  await p.locator('[data-testid="run-state"][data-state="cancelled"]').waitFor(WAIT);
  await p.locator('.node[data-bead="after"][data-state="cancelled"]').waitFor(WAIT);
  const detail = await api('GET', `/runs/${run}`);
  assert.equal(detail.workflow.status, 'cancelled');
  assert.match(detail.workflow.reason ?? '', /stopped from the dashboard test/);
  assert.equal(await p.locator('button[data-control="cancel"]').isDisabled(), true);
  assert.equal(await p.locator('button[data-control="retry"]').isEnabled(), true);
  open(hold);
  assert.deepEqual(p.problems, []);
  await p.close();
});

test('given a run of 500 beads, when its page opens, then every bead is drawn, updated live, and readable up close', async () => {
  const lines = ['name = "wide"', ''];
  const layers = 10;
  const width = 50;
  for (let layer = 0; layer < layers; layer += 1) {
    for (let i = 0; i < width; i += 1) {
      lines.push('[[task]]', `id = "l${layer}-bead-${String(i).padStart(2, '0')}"`, 'run = "true"');
      if (layer > 0) lines.push(`deps = ["l${layer - 1}-bead-${String(i).padStart(2, '0')}", "l${layer - 1}-bead-${String((i + 1) % width).padStart(2, '0')}"]`);
      lines.push('');
    }
  }
  const p = await page();
  const { run } = await startRun(lines.join('\n'), 'wide-run-1');
  await p.goto(`${base}/ui/runs/${run}`);
  await p.locator('[data-testid="dag"] .node').first().waitFor(WAIT);
  assert.equal(await p.locator('[data-testid="dag"] .node').count(), layers * width);
  await p.locator('[data-testid="run-state"][data-state="completed"]').waitFor({ timeout: 120_000 });
  await p.waitForFunction(() => document.querySelectorAll('.node[data-state="completed"]').length === 500, null, WAIT);
  await shot(p, 'run-500-beads');

  // Found by name and brought up close: its label is as large as on a small graph.
  const find = p.locator('input[aria-label="find a bead"]');
  await find.fill('l9-bead-49');
  await find.press('Enter');
  await p.locator('.bead-panel[data-bead="l9-bead-49"]').waitFor(WAIT);
  const box = await p.locator('.node[data-bead="l9-bead-49"] rect').first().boundingBox();
  assert.ok(box && box.width >= 140, `the bead is ${box && box.width} px wide up close`);
  assert.equal(await p.locator('.node.dim').count(), 499);
  await shot(p, 'run-500-beads-found');
  assert.deepEqual(p.problems, []);
  await p.close();
});

test('given the engine page and the log page, when they open, then they show the supervision tree and the log', async () => {
  const p = await page();
  await p.goto(`${base}/ui/engine`);
  for (const child of ['event_store', 'state_manager', 'worker_pool', 'worker-000']) {
    await p.locator(`[data-testid="supervision-tree"] li[data-child="${child}"]`).first().waitFor(WAIT);
  }
  assert.equal(await p.locator('[data-testid="workers"] .worker').count(), 8);
  await shot(p, 'engine');

  await p.locator('nav a[data-section="log"]').click();
  await p.waitForURL(`${base}/ui/log`);
  await p.locator('[data-testid="log-stats"]').waitFor(WAIT);
  await p.locator('table.events-table tbody tr').first().waitFor(WAIT);
  // Live: a new run's submission shows up without a reload.
  await startRun('name = "late"\n\n[[task]]\nid = "x"\nrun = "true"\n', 'late-run-1');
  await p.locator('table.events-table tr[data-kind="run_submitted"]', { hasText: 'late' }).first().waitFor(WAIT);
  await shot(p, 'log');
  assert.deepEqual(p.problems, []);
  await p.close();
});
