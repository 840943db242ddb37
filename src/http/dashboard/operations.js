// The dashboard's write views: rules (create, edit, enable/disable, delete), silences (create from
// a firing alert, list, expire) and the notifications table with its filters. Every request goes
// through `request` (dashboard.js), which carries the API token; the API's validation messages are
// shown next to the fields they name.

const $ = (selector) => document.querySelector(selector);

/** Shows each issue's message next to its field (`[data-error-for=path]`); clears the others. */
function showIssues(form, issues = []) {
  for (const slot of form.querySelectorAll('[data-error-for]')) slot.textContent = '';
  const unplaced = [];
  for (const { path, message } of issues) {
    const field = String(path).split('.')[0];
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    else unplaced.push(path ? `${path}: ${message}` : message);
  }
  form.querySelector('[data-error-for="form"]').textContent = unplaced.join('; ');
}

/** The answer of a write: shows its issues, or its error, in `form`; true when it went through. */
function settled(form, { status, body }) {
  if (status < 300) {
    showIssues(form, []);
    return true;
  }
  showIssues(form, body?.issues ?? [{ path: '', message: body?.error ?? `HTTP ${status}` }]);
  return false;
}

const number = (text) => (text.trim() === '' ? undefined : Number(text));
const textOrNull = (text) => (text.trim() === '' ? null : text.trim());

/** The rule form's fields as a rule body (the id only when creating). */
function ruleBody(form, creating) {
  const f = form.elements;
  const body = {
    name: f.name.value,
    device_id: f.device_id.value,
    metric: f.metric.value,
    operator: f.operator.value,
    threshold: number(f.threshold.value) ?? f.threshold.value,
    for_seconds: number(f.for_seconds.value) ?? 0,
    clear_threshold: number(f.clear_threshold.value) ?? null,
    keep_firing_for_seconds: number(f.keep_firing_for_seconds.value) ?? 0,
    nodata_seconds: number(f.nodata_seconds.value) ?? null,
    severity: f.severity.value,
    channels: f.channels.value.split(',').map((c) => c.trim()).filter(Boolean),
    enabled: f.enabled.checked,
  };
  if (creating && f.id.value.trim()) body.id = f.id.value.trim();
  return body;
}

/** Fills the rule form to edit `rule`, or empties it for a new one. */
function fillRuleForm(form, rule) {
  const f = form.elements;
  form.dataset.editing = rule ? rule.id : '';
  f.id.value = rule?.id ?? '';
  f.id.disabled = Boolean(rule);
  f.name.value = rule?.name ?? '';
  f.device_id.value = rule?.device_id ?? '';
  f.metric.value = rule?.metric ?? '';
  f.operator.value = rule?.operator ?? '>';
  f.threshold.value = rule?.threshold ?? '';
  f.for_seconds.value = rule?.for_seconds ?? 0;
  f.clear_threshold.value = rule?.clear_threshold ?? '';
  f.keep_firing_for_seconds.value = rule?.keep_firing_for_seconds ?? 0;
  f.nodata_seconds.value = rule?.nodata_seconds ?? '';
  f.severity.value = rule?.severity ?? 'warning';
  f.channels.value = (rule?.channels ?? []).join(', ');
  f.enabled.checked = rule?.enabled ?? true;
  form.querySelector('button[type="submit"]').textContent = rule ? `Save ${rule.id}` : 'Create rule';
  showIssues(form, []);
}

/** A button running `action` (through `ui.run`) without selecting the row it sits in. */
function actionButton(ui, label, action, attrs = {}) {
  const el = ui.node('button', { type: 'button', ...attrs }, label);
  el.addEventListener('click', (event) => {
    event.stopPropagation();
    ui.run(action);
  });
  return el;
}

/** The rules panel: the table with its row actions, and the create/edit form. */
function mountRules(ui) {
  const { request, node, table, pill, run } = ui;
  const form = $('#rule-form');
  const rowActions = (r) =>
    node('span', { class: 'actions' }, [
      actionButton(ui, 'Edit', async () => fillRuleForm(form, r), { 'data-action': 'edit', 'data-rule': r.id }),
      actionButton(ui, r.enabled ? 'Disable' : 'Enable', async () => {
        await request('PATCH', `rules/${encodeURIComponent(r.id)}`, { enabled: !r.enabled });
        await refresh();
      }, { 'data-action': 'toggle', 'data-rule': r.id }),
      actionButton(ui, 'Delete', async () => {
        if (!confirm(`Delete rule ${r.id}?`)) return;
        await request('DELETE', `rules/${encodeURIComponent(r.id)}`);
        await refresh();
      }, { 'data-action': 'delete', 'data-rule': r.id }),
    ]);

  async function refresh() {
    const { status, body } = await request('GET', 'rules');
    if (status !== 200) return;
    $('#rules').replaceChildren(
      table(body.rules, [
        ['rule', (r) => r.id],
        ['name', (r) => r.name],
        ['condition', (r) => `${r.device_id} ${r.metric} ${r.operator} ${r.threshold}`],
        ['severity', (r) => pill(r.severity)],
        ['enabled', (r) => (r.enabled ? 'yes' : 'no')],
        ['', rowActions],
      ]),
    );
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(async () => {
      const editing = form.dataset.editing;
      const answer = editing
        ? await request('PATCH', `rules/${encodeURIComponent(editing)}`, ruleBody(form, false))
        : await request('POST', 'rules', ruleBody(form, true));
      if (!settled(form, answer)) return;
      fillRuleForm(form, null);
      await refresh();
    });
  });
  form.querySelector('[data-action="new"]').addEventListener('click', () => fillRuleForm(form, null));
  return refresh;
}

/** The silences panel: the list with **Expire**, the form, and `silenceFrom(event)` to prefill it. */
function mountSilences(ui) {
  const { request, table, pill, time, run } = ui;
  const form = $('#silence-form');
  const matchers = (s) => ['rule_id', 'device_id', 'metric', 'severity'].filter((k) => s[k] !== null).map((k) => `${k}=${s[k]}`).join(' ') || 'every alert';
  const expireButton = (s) =>
    s.state === 'expired'
      ? ''
      : actionButton(ui, 'Expire', async () => {
          await request('DELETE', `silences/${encodeURIComponent(s.id)}`);
          await refresh();
        }, { 'data-action': 'expire', 'data-silence': s.id });

  async function refresh() {
    const { status, body } = await request('GET', 'silences');
    if (status !== 200) return;
    $('#silences').replaceChildren(
      table(body.silences, [
        ['state', (s) => pill(s.state)],
        ['matchers', matchers],
        ['until', (s) => time(s.ends_at)],
        ['by', (s) => s.created_by],
        ['comment', (s) => s.comment],
        ['', expireButton],
      ]),
    );
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(async () => {
      const f = form.elements;
      const minutes = Number(f.minutes.value);
      const body = {
        rule_id: textOrNull(f.rule_id.value),
        device_id: textOrNull(f.device_id.value),
        metric: textOrNull(f.metric.value),
        severity: textOrNull(f.severity.value),
        ends_at: f.minutes.value.trim() !== '' && Number.isFinite(minutes) ? new Date(Date.now() + minutes * 60_000).toISOString() : f.minutes.value,
        created_by: f.created_by.value,
        comment: f.comment.value,
      };
      if (!settled(form, await request('POST', 'silences', body))) return;
      f.comment.value = '';
      await refresh();
    });
  });

  function silenceFrom(event) {
    const f = form.elements;
    f.rule_id.value = event.alert_id ?? '';
    f.device_id.value = event.device_id ?? '';
    f.metric.value = event.metric ?? '';
    f.severity.value = event.severity ?? '';
    showIssues(form, []);
    f.comment.focus();
  }
  return { refresh, silenceFrom };
}

/** The notifications panel: the outbox table under its filters. */
function mountNotifications(ui) {
  const { request, table, pill, time, run } = ui;
  const filters = $('#notification-filters');

  async function refresh() {
    const params = new URLSearchParams();
    for (const name of ['status', 'channel', 'alert', 'since']) {
      const value = filters.elements[name].value.trim();
      if (value) params.set(name, name === 'since' ? new Date(value).toISOString() : value);
    }
    params.set('limit', '100');
    const answer = await request('GET', `notifications?${params}`);
    if (!settled(filters, answer)) return;
    $('#notifications').replaceChildren(
      table(answer.body.notifications, [
        ['at', (n) => time(n.created_at)],
        ['status', (n) => pill(n.status)],
        ['channel', (n) => n.channel],
        ['rule', (n) => n.alert_id ?? ''],
        ['title', (n) => n.title],
        ['attempts', (n) => n.attempts],
        ['last error', (n) => n.last_error ?? ''],
      ]),
    );
  }
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    run(refresh);
  });
  return refresh;
}

/**
 * Wires the rules, silences and notifications panels. `ui` gives the page's helpers: `request(method,
 * path, body)` → `{ status, body }`, `node`, `table`, `pill`, `time`, and `run` (logs failures).
 */
export function mountOperations(ui) {
  const silences = mountSilences(ui);
  return {
    refreshRules: mountRules(ui),
    refreshSilences: silences.refresh,
    refreshNotifications: mountNotifications(ui),
    silenceFrom: silences.silenceFrom,
  };
}
