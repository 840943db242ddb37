import fc from 'fast-check';

type JsonSchema = { type?: string | string[]; enum?: unknown[]; minimum?: number; maximum?: number; properties?: Record<string, JsonSchema>; required?: string[]; anyOf?: JsonSchema[]; items?: JsonSchema };

/** An operation of the OpenAPI document, as the fuzzer reads it. */
export interface Operation {
  method: string;
  path: string;
  parameters?: { name: string; in: 'path' | 'query'; schema?: JsonSchema }[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
}

/** Numbers at and past every edge: huge, tiny, negative, non-integer, past the Date range, and non-finite as text. */
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1.5, 1e9, 1e15, 8.64e15, 8.64e15 + 1, 2 ** 53, 2 ** 63, 1e308, -1e308, 36_500, 36_501, Number.MIN_VALUE, 4_294_967_296),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Numbers JSON cannot spell but a client can send: overflowing literals and long fractions. */
const numberTexts = fc.constantFrom('1e999', '-1e999', '1e-999', '123456789012345678901234567890', '0.' + '1'.repeat(400), '-0.0e-0');

/** Text that trips parsers: unrepresentable dates, control and astral characters, lone surrogates, long runs. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '', ' ', 'NaN', 'Infinity', '-Infinity', '1e999', '1e9', '-1', '0', 'true', 'null', '[]', '{}',
    '+275760-09-13T00:00:00.001Z', '-271821-04-19T00:00:00Z', '9999-12-31T23:59:59Z', '2026-01-01T00:00:00Z', '0000-00-00', '2026-02-30T25:61:61Z',
    '\u0000', '\uD800', '\uDFFF\uD800', '😀'.repeat(50), 'a'.repeat(10_000), '../../etc/passwd', '%00', "'; DROP TABLE rules; --",
    '__proto__', 'constructor', 'fuzz-rule', 'publisher', 'notifier',
  ),
);

const leaf = fc.oneof(hostileNumber, hostileString, fc.boolean(), fc.constant(null));
/** Any JSON value built from hostile leaves, a few levels deep. */
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(hostileString, tie('value'), { maxKeys: 4 })),
})).value;

/** The types a schema admits (`anyOf` and type lists flattened). */
function typesOf(schema: JsonSchema | undefined): string[] {
  return [schema?.type, ...(schema?.anyOf ?? []).map((s) => s.type)].flat().filter((t): t is string => typeof t === 'string');
}

/** A value of the type the schema names (an enum member when it has one), at the edges of that type. */
function typedValue(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  if (schema?.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const options: fc.Arbitrary<unknown>[] = [];
  for (const type of typesOf(schema)) {
    if (type === 'number' || type === 'integer') options.push(hostileNumber);
    if (type === 'string') options.push(hostileString);
    if (type === 'boolean') options.push(fc.boolean());
    if (type === 'null') options.push(fc.constant(null));
    if (type === 'array') options.push(fc.array(typedValue(schema?.items), { maxLength: 25 }));
    if (type === 'object') options.push(fc.dictionary(hostileString, hostileValue, { maxKeys: 5 }));
  }
  return options.length > 0 ? fc.oneof(...options) : hostileValue;
}

/** A value the schema accepts, plainly: what a careful client sends. */
function plausibleValue(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  if (schema?.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const type = typesOf(schema)[0];
  if (type === 'number' || type === 'integer') return fc.integer({ min: Math.max(schema?.minimum ?? 0, 0) + 1, max: Math.min(schema?.maximum ?? 1_000, 1_000) });
  if (type === 'string') return fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
  if (type === 'boolean') return fc.boolean();
  if (type === 'array') return fc.constant([]);
  if (type === 'object') return fc.constant({});
  return fc.constant(null);
}

/** A plausible object of the shape with one or two fields at an edge: the route's own checks get exercised. */
function nearlyValid(shape: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = Object.entries(shape.properties!);
  const plausible = fc.record(Object.fromEntries(properties.map(([name, property]) => [name, plausibleValue(property)])));
  const edges = fc
    .subarray(properties, { minLength: 0, maxLength: Math.min(2, properties.length) })
    .chain((picked) => fc.record(Object.fromEntries(picked.map(([name, property]) => [name, valueFor(property)]))));
  return fc.tuple(plausible, edges).map(([base, edge]) => ({ ...base, ...edge }));
}

/** Mostly a value of the schema's type (so requests get past the first check), sometimes anything. */
const valueFor = (schema: JsonSchema | undefined): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 5, arbitrary: typedValue(schema) }, { weight: 1, arbitrary: hostileValue });

/** Nesting as deep as the body limit allows, as text (no JSON.stringify could make it). */
const deepNesting = (maxBytes: number) =>
  fc.tuple(fc.integer({ min: 100, max: Math.floor(maxBytes / 2) - 40 }), fc.constantFrom('[', '{"a":'), fc.boolean()).map(([depth, open, inField]) => {
    const close = open === '[' ? ']' : '}';
    const nested = open.repeat(depth) + (open === '[' ? '' : '1') + close.repeat(depth);
    return inField ? `{"device_id":"d","metric":"m","value":1,"json_value":{"x":${nested}},"metadata":{"x":${nested}}}` : nested;
  });

/** A JSON body shaped like the route's schema (a subset of its fields, values at every edge) or anything else. */
function bodyText(operation: Operation, maxBytes: number): fc.Arbitrary<string> {
  const schema = operation.requestBody?.content['application/json'].schema;
  const shapes = [schema, ...(schema?.anyOf ?? []), schema?.items].filter((s): s is JsonSchema => Boolean(s?.properties));
  // Required fields are there most of the time, so the request reaches past the schema into the route.
  const shaped = shapes.map((shape) =>
    fc.tuple(
      fc.record(Object.fromEntries(Object.entries(shape.properties!).map(([name, property]) => [name, valueFor(property)])), { requiredKeys: [] }),
      fc.record(Object.fromEntries((shape.required ?? []).map((name) => [name, typedValue(shape.properties![name])]))),
      fc.boolean(),
    ).map(([fields, required, complete]) => (complete ? { ...required, ...fields } : fields)),
  );
  shaped.push(...shapes.map(nearlyValid));
  const objects = shaped.length > 0 ? fc.oneof(...shaped) : fc.dictionary(hostileString, hostileValue, { maxKeys: 5 });
  return fc.oneof(
    { weight: 6, arbitrary: objects.map((o) => JSON.stringify(o)) },
    { weight: 2, arbitrary: fc.array(objects, { maxLength: 5 }).map((a) => JSON.stringify(a)) },
    { weight: 1, arbitrary: fc.tuple(objects, fc.constantFrom('days', 'value', 'threshold', 'ts', 'limit', 'for_seconds'), numberTexts).map(([o, k, n]) => JSON.stringify(o).replace(/^\{/, `{"${k}":${n}${Object.keys(o as object).length > 0 ? ',' : ''}`)) },
    { weight: 2, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom('', '{', '[1,', '{"a":1}}', 'null', '{"__proto__":{"polluted":1}}', '\uFEFF{}', '[' + '{},'.repeat(1_500) + '{}]') },
    { weight: 1, arbitrary: deepNesting(maxBytes) },
  );
}

/** The request body: JSON text, invalid UTF-8, an oversized body, or none. */
export function hostileBody(operation: Operation, maxBytes: number): fc.Arbitrary<Buffer | undefined> {
  return fc.oneof(
    { weight: operation.method === 'GET' ? 1 : 8, arbitrary: bodyText(operation, maxBytes).map((text) => Buffer.from(text, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"device_id":"'), Buffer.from(bytes), Buffer.from([0xff, 0xc0]), Buffer.from('","value":1}')])) },
    { weight: 1, arbitrary: fc.integer({ min: maxBytes + 1, max: maxBytes * 3 }).map((size) => Buffer.alloc(size, '[')) },
    { weight: operation.method === 'GET' ? 8 : 1, arbitrary: fc.constant(undefined) },
  );
}

/** A path parameter as it appears on the wire: an existing id, any text percent-encoded, or broken escapes. */
export const hostilePathParam: fc.Arbitrary<string> = fc.oneof(
  fc.constant('fuzz-rule'),
  fc.constantFrom('fuzz-rule', 'publisher', 'notifier', 'missing', '%', '%zz', '%ff', '%E0%A4%A', '%C0%80', '%00', '..', '%2e%2e', 'x'.repeat(5_000)),
  hostileString.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '')) || 'x'),
);

/** A query string: the operation's parameters and strangers, values at every edge, some escapes broken. */
export function hostileQuery(operation: Operation): fc.Arbitrary<string> {
  const names = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
  const name = fc.oneof(...(names.length > 0 ? [fc.constantFrom(...names)] : []), fc.constantFrom('limit', 'since', 'x', '__proto__'));
  const value = fc.oneof(
    hostileNumber.map(String),
    numberTexts,
    hostileString.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ''))),
    fc.constantFrom('%', '%zz', '%ff%fe', '%E0%A4%A', '+', ''),
  );
  return fc.array(fc.tuple(name, value), { maxLength: 4 }).map((pairs) => (pairs.length > 0 ? `?${pairs.map(([n, v]) => `${n}=${v}`).join('&')}` : ''));
}

/** Content types, a token mostly right, and headers carrying bytes that are not UTF-8. */
export function hostileHeaders(token: string): fc.Arbitrary<Record<string, string>> {
  const latin1 = fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes.filter((b) => b === 9 || (b >= 32 && b !== 127))).toString('latin1'));
  return fc.record(
    {
      'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '*/*', ';;;'),
      authorization: fc.oneof({ weight: 9, arbitrary: fc.constant(`Bearer ${token}`) }, { weight: 1, arbitrary: latin1.map((v) => `Bearer ${v}`) }),
      'last-event-id': fc.oneof(hostileNumber.map(String), numberTexts, latin1),
      accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'),
      'x-fuzz': latin1,
    },
    { requiredKeys: ['authorization'] },
  );
}
