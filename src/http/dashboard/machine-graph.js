// Draws an XState machine definition (the JSON of GET /actors/:id/definition) as SVG: every state a box,
// laid out in rows by nesting depth, every transition an arrow labelled with its event.
const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 150;
const BOX_H = 34;
const GAP_X = 120;
const GAP_Y = 90;
const PAD = 30;

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Every state below the root, depth first, with its depth (1 = child of the root). */
function flatten(definition) {
  const states = [];
  const walk = (state, depth) => {
    for (const child of Object.values(state.states ?? {})) {
      states.push({ id: child.id, key: child.key, type: child.type, depth, definition: child });
      walk(child, depth + 1);
    }
  };
  walk(definition, 1);
  return states;
}

/** A readable event label: `after 5000`, `done: publish`, or the event type. */
export function eventLabel(eventType) {
  if (!eventType) return 'always';
  const after = /^xstate\.after\.(\d+)/.exec(eventType);
  if (after) return `after ${after[1]} ms`;
  const done = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (done) return `${done[1]}: ${done[2].split('.').pop()}`;
  return eventType;
}

/** The ids of the active states for a snapshot value: `{ running: 'waiting' }` → `m.running`, `m.running.waiting`. */
export function activeIds(rootId, value) {
  const ids = [];
  const walk = (prefix, v) => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') {
      ids.push(`${prefix}.${v}`);
      return;
    }
    for (const [key, child] of Object.entries(v)) {
      ids.push(`${prefix}.${key}`);
      walk(`${prefix}.${key}`, child);
    }
  };
  walk(rootId, value);
  return ids;
}

function layout(states) {
  const rows = new Map();
  for (const state of states) {
    const row = rows.get(state.depth) ?? [];
    row.push(state);
    rows.set(state.depth, row);
  }
  const widest = Math.max(1, ...[...rows.values()].map((row) => row.length));
  const width = PAD * 2 + widest * BOX_W + (widest - 1) * GAP_X;
  const positions = new Map();
  for (const [depth, row] of rows) {
    const rowWidth = row.length * BOX_W + (row.length - 1) * GAP_X;
    const x0 = (width - rowWidth) / 2;
    row.forEach((state, i) => positions.set(state.id, { x: x0 + i * (BOX_W + GAP_X), y: PAD + (depth - 1) * (BOX_H + GAP_Y) }));
  }
  const height = PAD * 2 + rows.size * BOX_H + Math.max(0, rows.size - 1) * GAP_Y;
  return { positions, width, height };
}

function edgePath(from, to, bend) {
  const a = { x: from.x + BOX_W / 2, y: from.y + BOX_H / 2 };
  const b = { x: to.x + BOX_W / 2, y: to.y + BOX_H / 2 };
  if (from === to) {
    const x = from.x + BOX_W;
    const y = from.y + BOX_H / 2;
    return { d: `M ${x} ${y - 8} C ${x + 40} ${y - 30}, ${x + 40} ${y + 30}, ${x} ${y + 8}`, label: { x: x + 34, y } };
  }
  // Start and end on the box borders, so arrowheads stay visible.
  const clip = (p, q) => {
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    const scale = Math.min(Math.abs((BOX_W / 2) / (dx || 1e-9)), Math.abs((BOX_H / 2) / (dy || 1e-9)));
    return { x: p.x + dx * scale, y: p.y + dy * scale };
  };
  const start = clip(a, b);
  const end = clip(b, a);
  const mx = (start.x + end.x) / 2;
  const my = (start.y + end.y) / 2;
  const len = Math.hypot(end.x - start.x, end.y - start.y) || 1;
  const cx = mx - ((end.y - start.y) / len) * bend;
  const cy = my + ((end.x - start.x) / len) * bend;
  return { d: `M ${start.x} ${start.y} Q ${cx} ${cy} ${end.x} ${end.y}`, label: { x: (mx + cx) / 2, y: (my + cy) / 2 } };
}

/** Renders the machine into `container`; returns `highlight(value)` to mark the active states. */
export function drawMachine(container, definition) {
  const states = flatten(definition);
  const { positions, width, height } = layout(states);
  // Scales down to fit its panel (never up): wide machines stay whole instead of being cut off.
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', style: `max-width: ${width}px`, role: 'img', 'aria-label': `machine ${definition.id}` });
  const defs = el('defs');
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#5c6b7a' }));
  defs.append(marker);
  svg.append(defs);

  const edges = el('g');
  const pairs = new Map();
  for (const state of states) {
    for (const transition of state.definition.transitions ?? []) {
      for (const target of transition.target ?? []) {
        const targetId = target.replace(/^#/, '');
        const from = positions.get(state.id);
        const to = positions.get(targetId);
        if (!from || !to) continue;
        const pair = `${state.id}->${targetId}`;
        const n = pairs.get(pair) ?? 0;
        pairs.set(pair, n + 1);
        const { d, label } = edgePath(from, to, 18 + n * 16);
        const g = el('g', { class: 'edge', 'data-event': transition.eventType ?? '' });
        g.append(el('path', { d, 'marker-end': 'url(#arrow)' }));
        g.append(el('text', { x: label.x, y: label.y + n * 11, 'text-anchor': 'middle' }, eventLabel(transition.eventType)));
        edges.append(g);
      }
    }
  }
  const nodes = el('g');
  const initial = definition.initial?.target?.[0]?.replace(/^#/, '');
  for (const state of states) {
    const p = positions.get(state.id);
    const g = el('g', { class: `node ${state.type}`, 'data-state': state.id, transform: `translate(${p.x} ${p.y})` });
    g.append(el('rect', { width: BOX_W, height: BOX_H, rx: 6 }));
    g.append(el('text', { x: BOX_W / 2, y: BOX_H / 2 + 4, 'text-anchor': 'middle' }, state.key + (state.type === 'compound' ? ' ▾' : '')));
    if (state.id === initial) g.append(el('circle', { class: 'initial', cx: -8, cy: BOX_H / 2, r: 4 }));
    nodes.append(g);
  }
  svg.append(edges, nodes);
  container.replaceChildren(svg);

  return function highlight(value) {
    const active = new Set(activeIds(definition.id, value));
    for (const node of svg.querySelectorAll('.node')) node.classList.toggle('active', active.has(node.getAttribute('data-state')));
  };
}
