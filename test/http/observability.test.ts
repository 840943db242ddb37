import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRuntime, type Runtime } from '../../src/create-runtime.ts';
import { parseExposition } from './exposition.ts';
import { httpApp, itemRoutes } from './http-app.ts';

const base = { DATABASE_URL: 'sqlite::memory:', PUBLISH_INTERVAL_SECONDS: '1', BATCH_WAIT_MS: '100', LOG_LEVEL: 'silent' };

describe('GET /metrics', () => {
  let runtime: Runtime;
  beforeEach(async () => {
    vi.useFakeTimers();
    runtime = createRuntime({ inheritEnv: false, env: base });
    await runtime.start({ listen: false });
  });
  afterEach(async () => {
    await runtime.stop();
    vi.useRealTimers();
  });

  it('is valid Prometheus text exposition with actors by state, messages and request durations by route', async () => {
    await vi.advanceTimersByTimeAsync(3_200);
    await runtime.app.request('/actors/publisher');
    await runtime.app.request('/actors/nobody');
    await runtime.app.request('/no/such/path');
    const response = await runtime.app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const families = parseExposition(await response.text());

    const actors = families.get('vigil_actors')!;
    expect(actors.type).toBe('gauge');
    expect(actors.samples).toContainEqual({ name: 'vigil_actors', labels: { kind: 'publisher', state: 'running.waiting', status: 'active' }, value: 1 });
    expect(actors.samples.some((s) => s.labels.state === 'error')).toBe(false);
    expect(actors.samples.find((s) => s.labels.kind === 'subscriber')?.value).toBe(1);

    const value = (name: string) => families.get(name)?.samples[0]?.value;
    expect(families.get('vigil_messages_published_total')!.type).toBe('counter');
    expect(value('vigil_messages_published_total')).toBe(3);
    expect(value('vigil_messages_received_total')).toBe(3);
    expect(value('vigil_messages_dropped_total')).toBe(0);
    expect(value('vigil_sse_clients')).toBe(0);

    const durations = families.get('vigil_http_request_duration_seconds')!;
    expect(durations.type).toBe('histogram');
    const counts = durations.samples.filter((s) => s.name.endsWith('_count'));
    expect(counts).toContainEqual({ name: 'vigil_http_request_duration_seconds_count', labels: { method: 'GET', route: '/actors/:id', status: '200' }, value: 1 });
    expect(counts).toContainEqual({ name: 'vigil_http_request_duration_seconds_count', labels: { method: 'GET', route: '/actors/:id', status: '404' }, value: 1 });
    expect(counts).toContainEqual({ name: 'vigil_http_request_duration_seconds_count', labels: { method: 'GET', route: 'unmatched', status: '404' }, value: 1 });
    // Node's defaults, on Vigil's registry.
    expect(families.get('process_cpu_user_seconds_total')!.type).toBe('counter');
    expect(families.get('process_resident_memory_bytes')!.samples[0]!.value).toBeGreaterThan(0);
    expect(families.get('nodejs_heap_size_used_bytes')!.type).toBe('gauge');
    expect(families.get('nodejs_eventloop_lag_seconds')).toBeDefined();
    for (const family of families.values()) {
      expect(family.name).toMatch(/^(vigil|process|nodejs)_/);
      // What `promtool check metrics` lints beyond the syntax: help on every family, counters named *_total.
      expect(family.help, family.name).not.toBe('');
      if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
    }
  });

  it('has a vigil_alerts series for a firing rule, with its labels, like Prometheus ALERTS', async () => {
    const post = (path: string, body: unknown) => runtime.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const rule = { device_id: 'd1', metric: 'temp', operator: '>', threshold: 50, severity: 'critical' };
    expect((await post('/rules', { id: 'hot', name: 'hot', ...rule })).status).toBe(201);
    expect((await post('/rules', { id: 'calm', name: 'calm', ...rule, threshold: 90 })).status).toBe(201);
    expect((await post('/readings', { device_id: 'd1', metric: 'temp', value: 70 })).status).toBe(202);
    await vi.advanceTimersByTimeAsync(500);
    const families = parseExposition(await (await runtime.app.request('/metrics')).text());
    const alerts = families.get('vigil_alerts')!;
    expect(alerts.type).toBe('gauge');
    expect(alerts.samples).toEqual([{ name: 'vigil_alerts', labels: { rule_id: 'hot', device_id: 'd1', metric: 'temp', severity: 'critical', alertstate: 'firing' }, value: 1 }]);
  });

  it('counts buffer drops', async () => {
    await runtime.stop();
    runtime = createRuntime({ inheritEnv: false, env: { ...base, BUFFER_SIZE: '1' } });
    await runtime.start({ listen: false });
    await vi.advanceTimersByTimeAsync(3_200);
    const families = parseExposition(await (await runtime.app.request('/metrics')).text());
    expect(families.get('vigil_messages_dropped_total')!.samples[0]!.value).toBe(2);
  });
});

describe('exposition parser', () => {
  it('rejects what Prometheus would reject', () => {
    expect(() => parseExposition('vigil_x 1\n')).toThrow(/undeclared/);
    expect(() => parseExposition('# TYPE vigil_x gauge\nvigil_x{a="1} 1\n')).toThrow(/bad/);
    expect(() => parseExposition('# TYPE vigil_x gauge\nvigil_x one\n')).toThrow(/bad sample value/);
    expect(() => parseExposition('# TYPE vigil_x gauge\nvigil_x 1')).toThrow(/newline/);
  });
});

describe('GET /openapi.json', () => {
  it('documents every route from the schemas that validate it, with {id} paths and the token scheme', async () => {
    const built = httpApp({ API_TOKEN: 'secret' }, [itemRoutes([])]);
    try {
      const response = await built.app.request('/openapi.json');
      expect(response.status).toBe(200);
      const doc = (await response.json()) as any;
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/metrics', '/actors', '/actors/{id}', '/actors/{id}/machine', '/events', '/messages', '/', '/items']));
      expect(doc.paths['/actors/{id}'].get.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
      const actorSchema = doc.paths['/actors/{id}'].get.responses['200'].content['application/json'].schema;
      expect(actorSchema.required).toEqual(['id', 'kind', 'status', 'value']);
      expect(Object.keys(actorSchema.properties)).toEqual(['id', 'kind', 'status', 'value', 'context', 'error']);
      expect(doc.paths['/actors'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['kind', 'limit']);
      const items = doc.paths['/items'].post;
      expect(items.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: ['name', 'count'], properties: { count: { type: 'integer' } } });
      expect(Object.keys(items.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '413', '422', '429']));
      expect(items.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/actors'].get.security).toEqual([]);
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    } finally {
      await built.close();
    }
  });
});
