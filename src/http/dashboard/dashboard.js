// Vigil's dashboard: actors and their states, the selected actor's machine with the current state
// highlighted live over Server-Sent Events, the subscriber buffer, alerts and plugin health; rules,
// silences and notifications (operations.js).
import { authorization, storedToken, tokenForm } from './api-token.js';
import { drawMachine } from './machine-graph.js';
import { mountOperations } from './operations.js';
import { readEvents } from './sse-reader.js';

const base = new URL('.', location.href);
const api = (path) => new URL(path, base);
const actors = new Map();
const view = { selected: null, highlight: null, stream: null };
const tokenPrompt = tokenForm(refreshAll);

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

/** A data request refused for want of the right token: the token form shows it, so it is not logged. */
class Unauthorized extends Error {}

/**
 * GET a JSON route with the token, if one was given; `null` when the route does not exist in this
 * build (404), so its panel says so.
 */
async function getJson(path) {
  const sent = storedToken();
  const response = await fetch(api(path), { headers: { accept: 'application/json', ...authorization(sent) } });
  if (response.status === 401) {
    tokenPrompt.refused(sent);
    throw new Unauthorized(`${path}: HTTP 401`);
  }
  tokenPrompt.accepted(sent);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/**
 * A write (or read) whose answer the caller shows: `{ status, body }`, with the token when one was
 * given; a 401 shows the token form.
 */
async function request(method, path, body) {
  const sent = storedToken();
  const headers = { accept: 'application/json', ...authorization(sent), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const response = await fetch(api(path), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (response.status === 401) {
    tokenPrompt.refused(sent);
    throw new Unauthorized(`${path}: HTTP 401`);
  }
  tokenPrompt.accepted(sent);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function renderActorRow(actor, live) {
  let row = document.querySelector(`tr[data-actor="${CSS.escape(actor.id)}"]`);
  if (!row) {
    row = node('tr', { 'data-actor': actor.id }, [node('td', {}, actor.id), node('td', {}, actor.kind), node('td', { class: 'state' }), node('td', { class: 'status' })]);
    row.addEventListener('click', () => run(() => select(actor.id)));
    $('#actors tbody').append(row);
  }
  const cell = row.querySelector('.state');
  cell.textContent = stateText(actor.value);
  const status = row.querySelector('.status');
  status.textContent = actor.status === 'error' && actor.error ? `error: ${actor.error}` : actor.status;
  row.classList.toggle('actor-error', actor.status === 'error');
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
  }
  if (!view.selected && body.actors.length > 0) await select(body.actors[0].id);
}

async function select(id) {
  view.selected = id;
  for (const row of document.querySelectorAll('#actors tbody tr')) row.setAttribute('aria-selected', String(row.dataset.actor === id));
  $('#machine-name').textContent = id;
  // The config as written: it has the eventless and delayed transitions that /definition lacks.
  const config = await getJson(`actors/${encodeURIComponent(id)}/machine`);
  if (!config || view.selected !== id) return;
  const highlight = await drawMachine($('#machine'), config, () => view.selected !== id);
  if (view.selected !== id) return;
  view.highlight = highlight;
  view.highlight(actors.get(id)?.value);
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
  if (actor.kind === 'rule') scheduleSoon('alerts', refreshAlerts);
  if (actor.kind === 'silence') scheduleSoon('silences', ops.refreshSilences);
}

/** Refreshes a panel shortly after live changes, once for a burst of them. */
const soon = new Map();
function scheduleSoon(key, fn) {
  if (soon.has(key)) return;
  soon.set(key, setTimeout(() => {
    soon.delete(key);
    run(fn);
  }, 300));
}

/** The live stream of `/events`: each event's `event:` is an actor id, its data the actor. */
function connect() {
  view.stream?.close();
  const badge = $('#connection');
  const show = (state, text) => {
    badge.dataset.state = state;
    badge.textContent = text;
  };
  let sent;
  view.stream = readEvents(api('events'), {
    headers: () => {
      sent = storedToken();
      return authorization(sent);
    },
    onOpen: () => {
      tokenPrompt.accepted(sent);
      show('open', 'live');
    },
    onEvent: (event) => onChange(JSON.parse(event.data), event.id),
    onError: ({ status, retrying }) => {
      if (status === 401) tokenPrompt.refused(sent);
      show('closed', retrying ? 'reconnecting…' : status === 401 ? 'needs the token' : `stopped (HTTP ${status})`);
    },
  });
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
    run(refreshMessages);
  }, 2_000);
}

async function refreshMessages() {
  const body = await getJson('messages');
  if (body === null) {
    $('#messages').replaceChildren(node('p', { class: 'muted' }, 'the subscriber buffer is not available in this build'));
    return;
  }
  const messages = body.messages.slice(-50).reverse();
  $('#message-count').textContent = `(${body.count})`;
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
  const silenceButton = (e) => {
    const el = node('button', { type: 'button', 'data-action': 'silence', 'data-rule': e.alert_id }, 'Silence');
    el.addEventListener('click', () => ops.silenceFrom(e));
    return el;
  };
  $('#firing').replaceChildren(table(firing.events, [...columns, ['', silenceButton]]));
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

/** Runs a refresh, and logs its failure unless it is a refusal, which the token form already shows. */
const run = (fn) => fn().catch((error) => {
  if (!(error instanceof Unauthorized)) console.warn(error);
});
const every = (ms, fn) => {
  run(fn);
  setInterval(() => run(fn), ms);
};

const ops = mountOperations({ request, node, table, pill, time, run });

/** After a token is given: everything again, with it. */
function refreshAll() {
  connect();
  for (const fn of [refreshActors, refreshAlerts, refreshPlugins, refreshMessages, ops.refreshRules, ops.refreshSilences, ops.refreshNotifications]) run(fn);
}

connect();
every(15_000, refreshActors);
every(10_000, refreshAlerts);
every(10_000, refreshPlugins);
every(10_000, ops.refreshRules);
every(10_000, ops.refreshSilences);
every(10_000, ops.refreshNotifications);
run(refreshMessages);
