// A run's DAG drawn in SVG from the layout the API gives (`layer`,
// `position` per bead: no layout engine here). Layers run left to right;
// a tall layer wraps into several columns, so a fan-out of
// hundreds of beads stays on screen (the wrap is chosen so the whole graph
// fills the frame as large as it can). Drag to pan, wheel to zoom, click a
// bead to select it. States are `data-state` attributes the style sheet
// colours, so a live update is one attribute write.

import { svg } from './ui.js';

const W = 150;
const H = 26;
const ROW_GAP = 10;
const COLUMN_GAP = 16;
const LAYER_GAP = 70;
/** Row limits tried when wrapping tall layers; the one drawing beads largest wins. */
const ROW_LIMITS = [12, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const LABEL_CHARS = 21;

/** The drawn size of `layers` wrapped at `limit` rows. */
function extent(layers, limit) {
  let width = 0;
  let tallest = 1;
  for (const members of layers) {
    const columns = Math.ceil(members.length / limit);
    width += columns * (W + COLUMN_GAP) - COLUMN_GAP + LAYER_GAP;
    tallest = Math.max(tallest, Math.ceil(members.length / columns));
  }
  return { width: Math.max(W, width - LAYER_GAP), height: tallest * (H + ROW_GAP) - ROW_GAP };
}

export class DagView {
  /** Draw `doc` (`GET /runs/{run}/dag`) into `container`. */
  constructor(container, doc, { onSelect }) {
    this.onSelect = onSelect;
    this.nodes = new Map();
    this.edges = [];
    this.root = svg('svg', { role: 'img', 'aria-label': 'the run\'s DAG' });
    this.scene = svg('g');
    this.root.append(this.scene);
    container.append(this.root);
    this.place(doc, container.getBoundingClientRect());
    this.draw(doc);
    this.listen();
    this.fit();
  }

  /** Each bead's top-left corner: layers left to right, tall layers wrapped. */
  place(doc, frame) {
    const byLayer = new Map();
    for (const node of doc.nodes) {
      if (!byLayer.has(node.layer)) byLayer.set(node.layer, []);
      byLayer.get(node.layer).push(node);
    }
    const layers = [...byLayer.keys()].sort((a, b) => a - b).map((l) => byLayer.get(l).sort((a, b) => a.position - b.position));
    const aspect = frame.width > 0 && frame.height > 0 ? frame.width / frame.height : 2;
    let best = null;
    for (const limit of ROW_LIMITS) {
      const size = extent(layers, limit);
      const scale = Math.max(size.width / aspect, size.height);
      if (!best || scale < best.scale) best = { limit, scale };
    }
    const limit = best ? best.limit : ROW_LIMITS[0];
    const tallest = Math.min(limit, Math.max(1, ...layers.map((l) => l.length)));
    this.corner = new Map();
    let x = 0;
    for (const members of layers) {
      const columns = Math.ceil(members.length / limit);
      const rows = Math.ceil(members.length / columns);
      const top = ((tallest - rows) * (H + ROW_GAP)) / 2;
      members.forEach((node, i) => {
        const column = Math.floor(i / rows);
        const row = i % rows;
        this.corner.set(node.id, { x: x + column * (W + COLUMN_GAP), y: top + row * (H + ROW_GAP) });
      });
      x += columns * (W + COLUMN_GAP) - COLUMN_GAP + LAYER_GAP;
    }
    this.width = Math.max(W, x - LAYER_GAP);
    this.height = tallest * (H + ROW_GAP) - ROW_GAP;
  }

  draw(doc) {
    const edgeLayer = svg('g', { class: 'edges' });
    const nodeLayer = svg('g', { class: 'nodes' });
    this.scene.append(edgeLayer, nodeLayer);
    for (const edge of doc.edges) {
      const from = this.corner.get(edge.from);
      const to = this.corner.get(edge.to);
      if (!from || !to) continue;
      const x1 = from.x + W;
      const y1 = from.y + H / 2;
      const x2 = to.x;
      const y2 = to.y + H / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      const path = svg('path', {
        class: `edge ${edge.type}`,
        d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      });
      edgeLayer.append(path);
      this.edges.push({ from: edge.from, to: edge.to, path });
    }
    for (const node of doc.nodes) {
      const at = this.corner.get(node.id);
      const g = svg('g', { class: 'node', transform: `translate(${at.x},${at.y})`, 'data-bead': node.id, 'data-state': 'pending' });
      const title = svg('title');
      title.textContent = node.id;
      const label = svg('text', { x: 10, y: H / 2 + 4 });
      label.textContent = node.id.length > LABEL_CHARS ? `${node.id.slice(0, LABEL_CHARS - 1)}…` : node.id;
      g.append(title, svg('rect', { width: W, height: H }), svg('rect', { class: 'bar', width: 4, height: H - 2, x: 1, y: 1 }), label);
      nodeLayer.append(g);
      this.nodes.set(node.id, { g, title });
    }
  }

  /** Colour bead `id` for `state`. */
  setState(id, state, detail) {
    const node = this.nodes.get(id);
    if (!node || node.g.dataset.state === state && !detail) return;
    node.g.dataset.state = state;
    node.title.textContent = detail ? `${id}: ${state.replace('_', ' ')} · ${detail}` : `${id}: ${state.replace('_', ' ')}`;
  }

  /** Mark bead `id` (and its edges) as selected. */
  select(id) {
    for (const [key, node] of this.nodes) node.g.classList.toggle('selected', key === id);
    for (const edge of this.edges) edge.path.classList.toggle('hot', edge.from === id || edge.to === id);
  }

  /** Dim every bead `keep(id, state)` refuses; `null` shows all. Returns the kept ids. */
  filter(keep) {
    const kept = [];
    for (const [id, node] of this.nodes) {
      const on = !keep || keep(id, node.g.dataset.state);
      node.g.classList.toggle('dim', !on);
      if (on) kept.push(id);
    }
    const shown = new Set(kept);
    for (const edge of this.edges) edge.path.classList.toggle('dim', Boolean(keep) && !(shown.has(edge.from) && shown.has(edge.to)));
    return kept;
  }

  /** Show the whole graph. */
  fit() {
    const pad = 20;
    this.view = { x: -pad, y: -pad, w: this.width + 2 * pad, h: this.height + 2 * pad };
    const box = this.root.getBoundingClientRect();
    // Never blow a small graph up past its natural size.
    if (box.width > 0 && box.height > 0) {
      const scale = Math.max(this.view.w / box.width, this.view.h / box.height, 1);
      const w = box.width * scale;
      const h = box.height * scale;
      this.view = { x: this.view.x - (w - this.view.w) / 2, y: this.view.y - (h - this.view.h) / 2, w, h };
    }
    this.apply();
  }

  /** Centre bead `id` at a readable zoom. */
  focus(id) {
    const at = this.corner.get(id);
    if (!at) return;
    const box = this.root.getBoundingClientRect();
    const w = Math.max(box.width, 400);
    const h = Math.max(box.height, 300);
    this.view = { x: at.x + W / 2 - w / 2, y: at.y + H / 2 - h / 2, w, h };
    this.apply();
  }

  /** Zoom by `factor` (above 1: out) around the frame's centre, or the point `(px, py)`. */
  zoom(factor, px = this.view.x + this.view.w / 2, py = this.view.y + this.view.h / 2) {
    this.view = {
      x: px - (px - this.view.x) * factor,
      y: py - (py - this.view.y) * factor,
      w: this.view.w * factor,
      h: this.view.h * factor,
    };
    this.apply();
  }

  apply() {
    const { x, y, w, h } = this.view;
    this.root.setAttribute('viewBox', `${x} ${y} ${w} ${h}`);
  }

  listen() {
    let drag = null;
    this.root.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY, view: { ...this.view }, moved: false };
      this.root.setPointerCapture(e.pointerId);
    });
    this.root.addEventListener('pointermove', (e) => {
      if (!drag) return;
      const box = this.root.getBoundingClientRect();
      const scale = this.view.w / box.width;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) {
        drag.moved = true;
        this.root.classList.add('dragging');
      }
      if (drag.moved) {
        this.view = { ...drag.view, x: drag.view.x - dx * scale, y: drag.view.y - dy * scale };
        this.apply();
      }
    });
    this.root.addEventListener('pointerup', (e) => {
      const wasDrag = drag && drag.moved;
      drag = null;
      this.root.classList.remove('dragging');
      if (wasDrag) return;
      const target = document.elementFromPoint(e.clientX, e.clientY);
      const node = target && target.closest('.node');
      if (node) this.onSelect(node.dataset.bead);
    });
    this.root.addEventListener('dblclick', (e) => {
      const node = e.target.closest && e.target.closest('.node');
      if (node) this.focus(node.dataset.bead);
    });
    this.root.addEventListener('wheel', (e) => {
      e.preventDefault();
      const box = this.root.getBoundingClientRect();
      const factor = e.deltaY > 0 ? 1.15 : 1 / 1.15;
      const px = this.view.x + ((e.clientX - box.left) / box.width) * this.view.w;
      const py = this.view.y + ((e.clientY - box.top) / box.height) * this.view.h;
      this.zoom(factor, px, py);
    }, { passive: false });
  }
}
