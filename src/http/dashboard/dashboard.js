// Vigil's dashboard: actors and their states, the selected actor's machine with the current state
// highlighted live over Server-Sent Events, the subscriber buffer, alerts and plugin health.
import { drawMachine } from './machine-graph.js';

const base = new URL('.', location.href);
const api = (path) => new URL(path, base);
const actors = new Map();
const listened = new Set();
const view = { selected: null, highlight: null, source: null };

const $ = (selector) => document.querySelector(selector);
function node(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  for (const child of [].concat(children)) el.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return el;
}

/** A snapshot value as one line: `running.waiting`. */
function stateText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  return Object.entries(value).map(([key, child]) => (stateText(child) ? `${key}.${stateText(child)}` : key)).join(', ');
}

/** GET a JSON route; `null` when the route does not exist in this build (404), so its panel says so. */
async function getJson(path) {
  const response = await fetch(api(path), { headers: { accept: 'application/json' } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function renderActorRow(actor, live) {
  let row = document.querySelector(`tr[data-actor="${CSS.escape(actor.id)}"]`);
  if (!row) {
    row = node('tr', { 'data-actor': actor.id }, [node('td', {}, actor.id), node('td', {}, actor.kind), node('td', { class: 'state' }), node('td', { class: 'status' })]);
    row.addEventListener('click', () => select(actor.id));
    $('#actors tbody').append(row);
  }
  const cell = row.querySelector('.state');
  cell.textContent = stateText(actor.value);
  row.querySelector('.status').textContent = actor.status;
  row.setAttribute('aria-selected', String(view.selected === actor.id));
  if (live) {
    cell.classList.remove('flash');
    void cell.offsetWidth;
    cell.classList.add('flash');
    row.dataset.live = 'true';
  }
}

async function refreshActors() {
  const body = await getJson('actors');
  if (!body) return;
  $('#actor-count').textContent = `(${body.total})`;
  for (const actor of body.actors) {
    actors.set(actor.id, actor);
    renderActorRow(actor, false);
    listen(actor.id);
  }
  if (!view.selected && body.actors.length > 0) await select(body.actors[0].id);
}

async function select(id) {
  view.selected = id;
  for (const row of document.querySelectorAll('#actors tbody tr')) row.setAttribute('aria-selected', String(row.dataset.actor === id));
  $('#machine-name').textContent = id;
  const definition = await getJson(`actors/${encodeURIComponent(id)}/machine`);
  if (!definition || view.selected !== id) return;
  view.highlight = drawMachine($('#machine'), definition);
  view.highlight(actors.get(id)?.value);
}

/** Named SSE events (`event:` is the actor id) need a listener each; new actors get one as they appear. */
function listen(id) {
  if (!view.source || listened.has(id)) return;
  listened.add(id);
  view.source.addEventListener(id, (event) => onChange(JSON.parse(event.data), event.lastEventId));
}

function onChange(actor, eventId) {
  const known = actors.get(actor.id);
  actors.set(actor.id, { ...known, ...actor });
  renderActorRow(actor, true);
  if (actor.id === view.selected && view.highlight) view.highlight(actor.value);
  const last = $('#last-change');
  last.textContent = `#${eventId} ${actor.id} → ${stateText(actor.value)}`;
  last.dataset.eventId = eventId;
  if (actor.kind === 'subscriber') scheduleMessages();
}

function connect() {
  const source = new EventSource(api('events'));
  view.source = source;
  const badge = $('#connection');
  source.addEventListener('open', () => {
    badge.dataset.state = 'open';
    badge.textContent = 'live';
  });
  source.addEventListener('error', () => {
    badge.dataset.state = 'closed';
    badge.textContent = 'reconnecting…';
  });
  for (const id of actors.keys()) listen(id);
}

function table(rows, columns) {
  if (rows.length === 0) return node('p', { class: 'muted' }, 'none');
  return node('table', {}, [
    node('thead', {}, node('tr', {}, columns.map(([label]) => node('th', {}, label)))),
    node('tbody', {}, rows.map((row) => node('tr', {}, columns.map(([, cell]) => node('td', {}, cell(row)))))),
  ]);
}

const pill = (text) => node('span', { class: `pill ${String(text ?? '').toLowerCase()}` }, text ?? '');
const time = (value) => (value ? new Date(value).toLocaleTimeString() : '');

let messagesTimer = null;
function scheduleMessages() {
  messagesTimer ??= setTimeout(() => {
    messagesTimer = null;
    refreshMessages().catch(() => {});
  }, 2_000);
}

async function refreshMessages() {
  const body = await getJson('messages');
  const messages = body.messages.slice(-50).reverse();
  $('#message-count').textContent = body ? `(${body.count})` : '';
  $('#messages').replaceChildren(
    table(messages, [
      ['offset', (m) => `${m.topic}#${m.offset}`],
      ['received', (m) => time(m.received_at)],
      ['value', (m) => node('pre', {}, JSON.stringify(m.value))],
    ]),
  );
}

async function refreshAlerts() {
  const firing = await getJson('alerts/events?is_resolved=false&limit=50');
  if (firing === null) {
    $('#firing').replaceChildren(node('p', { class: 'muted' }, 'alerts are not available in this build'));
    $('#alert-events').replaceChildren();
    return;
  }
  const columns = [
    ['rule', (e) => e.metadata?.rule_name ?? e.alert_id],
    ['device', (e) => e.device_id],
    ['metric', (e) => `${e.metric} ${e.operator} ${e.threshold_value}`],
    ['severity', (e) => pill(e.severity)],
    ['value', (e) => e.current_value],
    ['at', (e) => time(e.triggered_at)],
  ];
  $('#firing').replaceChildren(table(firing.events, columns));
  const recent = await getJson('alerts/events?limit=20');
  const resolvedColumn = ['resolved', (e) => (e.is_resolved ? time(e.resolved_at) || 'yes' : pill('firing'))];
  $('#alert-events').replaceChildren(table(recent.events, [...columns, resolvedColumn]));
}

async function refreshPlugins() {
  const body = await getJson('plugins');
  if (body === null) {
    $('#plugins').replaceChildren(node('p', { class: 'muted' }, 'plugin health is not available in this build'));
    return;
  }
  $('#plugins').replaceChildren(
    table(body.plugins, [
      ['plugin', (p) => p.name],
      ['state', (p) => pill(p.status)],
      ['runs', (p) => p.total_runs],
      ['success', (p) => `${(p.success_rate * 100).toFixed(0)} %`],
      ['failures in a row', (p) => p.consecutive_failures],
      ['last error', (p) => p.last_error ?? ''],
    ]),
  );
}

const every = (ms, fn) => {
  const run = () => fn().catch((error) => console.warn(error));
  run();
  setInterval(run, ms);
};

connect();
every(15_000, refreshActors);
every(10_000, refreshAlerts);
every(10_000, refreshPlugins);
refreshMessages().catch(() => {});
