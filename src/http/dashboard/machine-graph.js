// Draws a machine config (GET /actors/:id/machine) as SVG, laid out by ELK (elkjs, served with the
// dashboard as assets/elk.bundled.js: no CDN): nested states inside their parents, every transition
// an arrow whose label ELK places clear of the others, final states double-bordered, the initial
// state dotted, and the active states highlighted by `highlight(value)`.
import { absoluteLayout, activeStateIds, machineGraph } from './machine-layout.js';

const SVG = 'http://www.w3.org/2000/svg';
const FONTS = { title: '600 12px system-ui, sans-serif', internal: '11px system-ui, sans-serif', edge: '11px system-ui, sans-serif' };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

let elkLoading;
/** ELK's browser bundle (a classic script defining `ELK`), loaded once from beside this module. */
function loadElk() {
  elkLoading ??= new Promise((resolve, reject) => {
    if (globalThis.ELK) return resolve(new globalThis.ELK());
    const script = document.createElement('script');
    script.src = new URL('elk.bundled.js', import.meta.url).href;
    script.onload = () => resolve(new globalThis.ELK());
    script.onerror = () => {
      elkLoading = undefined;
      reject(new Error('the graph layout (elk.bundled.js) did not load'));
    };
    document.head.append(script);
  });
  return elkLoading;
}

const canvas = document.createElement('canvas').getContext('2d');
/** A text's size in the font it is drawn with. */
function measure(text, kind) {
  canvas.font = FONTS[kind];
  return { width: Math.ceil(canvas.measureText(text).width), height: kind === 'title' ? 15 : 13 };
}

function drawState(state, box) {
  const classes = ['node', state.type, state.parent ? '' : 'root', state.initial ? 'initial' : ''].filter(Boolean).join(' ');
  const g = el('g', { class: classes, 'data-state': state.id, transform: `translate(${box.x} ${box.y})` });
  g.append(el('rect', { class: 'box', width: box.width, height: box.height, rx: 6 }));
  if (state.type === 'final') g.append(el('rect', { class: 'inner', x: 3, y: 3, width: box.width - 6, height: box.height - 6, rx: 4 }));
  const title = el('text', { class: 'title', x: state.initial ? 22 : 10, y: 17, style: `font: ${FONTS.title}` }, state.key);
  if (state.initial) g.append(el('circle', { class: 'initial-dot', cx: 11, cy: 13, r: 4 }));
  g.append(title);
  state.internal.forEach((line, i) => g.append(el('text', { class: 'internal', x: 10, y: 34 + i * 15, style: `font: ${FONTS.internal}` }, line)));
  return g;
}

function drawEdge(edge, route) {
  const g = el('g', { class: 'edge', 'data-edge': edge.id, 'data-source': edge.source, 'data-target': edge.target, 'data-events': edge.events.join('\n') });
  const d = route.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
  g.append(el('path', { d, 'marker-end': 'url(#machine-arrow)' }));
  if (route.label) {
    const { x, y, width, height } = route.label;
    const label = el('g', { class: 'edge-label', transform: `translate(${x} ${y})` });
    label.append(el('rect', { width, height, rx: 3 }));
    label.append(el('text', { x: width / 2, y: height / 2 + 4, 'text-anchor': 'middle', style: `font: ${FONTS.edge}` }, edge.label));
    g.append(label);
  }
  return g;
}

/** The smallest scale a machine is drawn at: below it the panel scrolls, so the text stays legible. */
const MIN_SCALE = 0.8;

/**
 * Lays the machine out left to right (labels read along their arrows), or top to bottom when only
 * that fits the panel at MIN_SCALE or more (the panel is taller than wide).
 */
async function layOut(config, panelWidth) {
  const elk = await loadElk();
  const [right, down] = await Promise.all(
    ['RIGHT', 'DOWN'].map(async (direction) => {
      const graph = machineGraph(config, measure, direction);
      return { graph, layout: absoluteLayout(await elk.layout(graph.elk)) };
    }),
  );
  const fits = (layout) => layout.width * MIN_SCALE <= panelWidth;
  return !panelWidth || fits(right.layout) || !fits(down.layout) ? right : down;
}

/**
 * Renders the machine config into `container`, unless `stale()` says by then that another was asked
 * for; resolves to `highlight(value)`, which marks the active states.
 */
export async function drawMachine(container, config, stale = () => false) {
  const { graph, layout } = await layOut(config, container.clientWidth);
  const { width, height } = layout;
  // Scales down to fit its panel, but not below MIN_SCALE (the panel scrolls instead).
  const scale = Math.max(MIN_SCALE, Math.min(1, (container.clientWidth || width) / width));
  const svg = el('svg', { class: 'machine', 'data-direction': graph.elk.layoutOptions['elk.direction'], viewBox: `0 0 ${width} ${height}`, width: Math.round(width * scale), height: Math.round(height * scale), role: 'img', 'aria-label': `machine ${config.id}` });
  const marker = el('marker', { id: 'machine-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
  svg.append(el('defs', {}, undefined), el('g', { class: 'nodes' }), el('g', { class: 'edges' }));
  svg.firstChild.append(marker);
  // Parents before children (the states are in that order), so nested boxes draw on top.
  for (const state of graph.states.values()) svg.children[1].append(drawState(state, layout.nodes.get(state.id)));
  for (const edge of graph.edges) {
    const route = layout.edges.get(edge.id);
    if (route && route.points.length > 0) svg.children[2].append(drawEdge(edge, route));
  }
  if (!stale()) container.replaceChildren(svg);

  return function highlight(value) {
    const active = new Set(activeStateIds(graph.states, value));
    for (const node of svg.querySelectorAll('.node')) node.classList.toggle('active', active.has(node.getAttribute('data-state')));
  };
}
