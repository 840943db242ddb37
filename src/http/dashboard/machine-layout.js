// A machine's config (GET /actors/:id/machine: as createMachine() takes it, with eventless `always`
// and delayed `after` transitions) as a graph for ELK: every state a node (compound states hold their
// children), every transition with a target an edge carrying a sized label. Transitions without a
// target (actions only: the state is not left) are listed inside their state's box. No DOM here:
// text is sized by the `measure(text) → { width, height }` the caller gives.

/** Padding around a state's title and its list of targetless transitions. */
const PAD_X = 10;
const TITLE_H = 26;
const LINE_H = 15;
const MIN_W = 90;

/** `5000` → `5 s`, `250` → `250 ms`, a named delay stays its name. */
function delayText(delay) {
  const ms = Number(delay);
  if (!Number.isFinite(ms)) return delay;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

const guardName = (guard) => (typeof guard === 'string' ? guard : (guard?.type ?? 'inline'));
const asList = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
/** A transition as written: `'target'`, `{ target, guard, actions }`, or a list of either. */
const asTransitions = (value) => asList(value).map((t) => (typeof t === 'string' ? { target: t } : (t ?? {})));

/** Every state of the config, root first, with its id (explicit `id`, or the machine id and path). */
function collectStates(config) {
  const states = new Map();
  const walk = (node, id, key, path, parent) => {
    const children = Object.entries(node.states ?? {});
    const type = node.type ?? (children.length > 0 ? 'compound' : 'atomic');
    const state = { id, key, path, type, parent, node, children: [], initial: false, internal: [] };
    states.set(id, state);
    if (parent) parent.children.push(state);
    for (const [childKey, child] of children) walk(child, child.id ?? `${id}.${childKey}`, childKey, [...path, childKey], state);
    const initial = typeof node.initial === 'string' ? node.initial : node.initial?.target;
    const first = state.children.find((c) => c.key === initial);
    if (first) first.initial = true;
  };
  walk(config, config.id ?? '(machine)', config.id ?? '(machine)', [], undefined);
  return states;
}

/** XState's target resolution: `#id.path` by id, `.child` below the source, `sibling.path` beside it. */
function resolveTarget(states, source, target) {
  const byPath = (from, path) => {
    let node = from;
    for (const key of path.split('.')) {
      node = node?.children.find((c) => c.key === key);
      if (!node) return undefined;
    }
    return node;
  };
  if (target.startsWith('#')) {
    const ref = target.slice(1);
    if (states.has(ref)) return states.get(ref);
    // `#id.path`: the longest id that prefixes it, then the path below.
    for (const [id, state] of states) if (ref.startsWith(`${id}.`) && byPath(state, ref.slice(id.length + 1))) return byPath(state, ref.slice(id.length + 1));
    return undefined;
  }
  if (target.startsWith('.')) return byPath(source, target.slice(1));
  return source.parent ? byPath(source.parent, target) : byPath(source, target);
}

/** Every transition a state node declares, each `{ event, label, guard, transition }`. */
function transitionsOf(node) {
  const out = [];
  const add = (event, label, value) => {
    for (const transition of asTransitions(value)) {
      out.push({ event, label, guard: transition.guard ? ` [${guardName(transition.guard)}]` : '', transition });
    }
  };
  for (const [event, value] of Object.entries(node.on ?? {})) add(event, event === '*' ? 'any event' : event, value);
  add('always', 'always', node.always);
  for (const [delay, value] of Object.entries(node.after ?? {})) add(`after ${delay}`, `after ${delayText(delay)}`, value);
  for (const invoke of asList(node.invoke)) {
    const name = invoke.id ?? (typeof invoke.src === 'string' ? invoke.src : 'invoked');
    add(`done: ${name}`, `done: ${name}`, invoke.onDone);
    add(`error: ${name}`, `error: ${name}`, invoke.onError);
  }
  add('done', 'done', node.onDone);
  return out;
}

/**
 * The graph of a machine config: `states` (id → state, root first), `edges` (one per source, target
 * and guard: `EVALUATE | DEADLINE [breaches]`; `events` lists the transitions it draws), and `elk`,
 * the input for `elk.layout()`, flowing `direction` (`RIGHT` or `DOWN`).
 */
export function machineGraph(config, measure, direction = 'RIGHT') {
  const states = collectStates(config);
  const edges = [];
  const seen = new Map();
  for (const state of states.values()) {
    for (const { event, label, guard, transition } of transitionsOf(state.node)) {
      const targets = asList(transition.target);
      if (targets.length === 0) {
        if (!state.internal.includes(label + guard)) state.internal.push(label + guard);
        continue;
      }
      for (const target of targets) {
        const to = resolveTarget(states, state, target);
        if (!to) continue;
        const key = `${state.id}\u0000${to.id}\u0000${guard}`;
        const known = seen.get(key);
        if (known) {
          if (!known.events.includes(event)) {
            known.events.push(event);
            known.labels.push(label);
          }
          continue;
        }
        const edge = { id: `e${edges.length}`, source: state.id, target: to.id, guard, labels: [label], events: [event] };
        seen.set(key, edge);
        edges.push(edge);
      }
    }
  }
  for (const edge of edges) edge.label = edge.labels.join(' | ') + edge.guard;
  return { states, edges, elk: elkGraph(states, edges, measure, direction) };
}

function elkNode(state, measure) {
  const lines = [state.key, ...state.internal];
  const width = Math.max(MIN_W, ...lines.map((line, i) => measure(line, i === 0 ? 'title' : 'internal').width + 2 * PAD_X + (i === 0 ? 18 : 0)));
  const headerH = TITLE_H + state.internal.length * LINE_H;
  const node = { id: state.id, labels: [] };
  if (state.children.length === 0) return { ...node, width, height: headerH + (state.internal.length ? 6 : 0) };
  return {
    ...node,
    // The header (title and targetless transitions) is padding above the children.
    layoutOptions: { 'elk.padding': `[top=${headerH + 14},left=16,bottom=16,right=16]`, 'elk.nodeSize.minimum': `(${width},${headerH})`, 'elk.nodeSize.constraints': 'MINIMUM_SIZE' },
    children: state.children.map((child) => elkNode(child, measure)),
  };
}

function elkGraph(states, edges, measure, direction) {
  const root = [...states.values()][0];
  return {
    id: '(graph)',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.edgeLabels.inline': 'false',
      'elk.spacing.nodeNode': '40',
      'elk.spacing.edgeLabel': '4',
      'elk.spacing.edgeEdge': '14',
      'elk.spacing.edgeNode': '18',
      'elk.layered.spacing.nodeNodeBetweenLayers': '50',
      'elk.layered.spacing.edgeNodeBetweenLayers': '20',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '12',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.mergeEdges': 'false',
      'elk.padding': '[top=10,left=10,bottom=10,right=10]',
    },
    children: [elkNode(root, measure)],
    edges: edges.map((edge) => {
      const { width, height } = measure(edge.label, 'edge');
      return { id: edge.id, sources: [edge.source], targets: [edge.target], labels: [{ id: `${edge.id}.label`, text: edge.label, width: width + 8, height: height + 4 }] };
    }),
  };
}

/**
 * The laid-out graph flattened to absolute coordinates: `nodes` (id → { x, y, width, height }) and
 * `edges` (id → { points, label: { x, y, width, height } }). ELK gives each edge's coordinates
 * relative to its `container` node.
 */
export function absoluteLayout(laidOut) {
  const nodes = new Map();
  const walk = (node, dx, dy) => {
    const x = dx + (node.x ?? 0);
    const y = dy + (node.y ?? 0);
    nodes.set(node.id, { x, y, width: node.width, height: node.height });
    for (const child of node.children ?? []) walk(child, x, y);
  };
  walk(laidOut, -(laidOut.x ?? 0), -(laidOut.y ?? 0));
  const edges = new Map();
  const collect = (node) => {
    for (const edge of node.edges ?? []) {
      const origin = nodes.get(edge.container ?? node.id) ?? { x: 0, y: 0 };
      const at = (p) => ({ x: p.x + origin.x, y: p.y + origin.y });
      const points = [];
      for (const section of edge.sections ?? []) points.push(at(section.startPoint), ...(section.bendPoints ?? []).map(at), at(section.endPoint));
      const label = edge.labels?.[0];
      edges.set(edge.id, { points, label: label && { x: label.x + origin.x, y: label.y + origin.y, width: label.width, height: label.height } });
    }
    for (const child of node.children ?? []) collect(child);
  };
  collect(laidOut);
  return { nodes, edges, width: laidOut.width, height: laidOut.height };
}

/** The ids of the active states for a snapshot value (`{ running: 'waiting' }`), root included. */
export function activeStateIds(states, value) {
  const root = [...states.values()][0];
  const ids = [root.id];
  const walk = (state, v) => {
    if (v === null || v === undefined) return;
    const entries = typeof v === 'string' ? [[v, undefined]] : Object.entries(v);
    for (const [key, child] of entries) {
      const found = state.children.find((c) => c.key === key);
      if (!found) continue;
      ids.push(found.id);
      walk(found, child);
    }
  };
  walk(root, value);
  return ids;
}
