/** The error responses of Vigil's OpenAPI document: one body schema each, as `errorPayload` and the guard write them. */

type JsonSchema = Record<string, unknown>;

const issue = { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } };

/** The bodies every error answer has: `error` (for a person) and `code` (stable, for a program). */
export const ERROR_SCHEMAS: Record<string, JsonSchema> = {
  Error: {
    type: 'object',
    description: 'Every error answer: a message for a person and a stable code',
    required: ['error', 'code'],
    properties: { error: { type: 'string' }, code: { type: 'string' }, detail: { type: 'string' } },
  },
  ValidationError: {
    type: 'object',
    description: 'Bad input: every issue found, by field',
    required: ['error', 'code', 'issues'],
    properties: {
      error: { type: 'string' },
      code: { type: 'string', examples: ['VALIDATION_FAILED', 'INVALID_JSON', 'BATCH_TOO_LARGE'] },
      issues: { type: 'array', items: issue },
      accepted: { type: 'integer', description: 'POST /readings: the readings kept despite the rejected ones' },
      stale: { type: 'integer', description: 'POST /readings: accepted readings older than the latest stored' },
    },
  },
  Conflict: {
    type: 'object',
    required: ['error', 'code'],
    properties: { error: { type: 'string' }, code: { type: 'string', const: 'CONFLICT' }, field: { type: 'string' } },
  },
  Retriable: {
    type: 'object',
    description: 'The store or the broker is unreachable for now: the same request may succeed later',
    required: ['error', 'code', 'retriable'],
    properties: { error: { type: 'string' }, code: { type: 'string' }, retriable: { type: 'boolean', const: true } },
  },
};

const ref = (schema: string, description: string, headers?: JsonSchema): JsonSchema => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
});

/** Every error status Vigil answers with, its description and body. */
export const ERROR_RESPONSES: Record<number, JsonSchema> = {
  400: ref('ValidationError', 'The body is not JSON, or a query parameter is invalid (issues name each)'),
  401: ref('Error', 'Missing or wrong bearer token (API_TOKEN)'),
  404: ref('Error', 'Not found'),
  409: ref('Conflict', 'The id exists already'),
  413: ref('Error', 'The body is larger than MAX_BODY_BYTES (RULES_MAX_BODY_BYTES for POST /rules)'),
  422: ref('ValidationError', 'The body does not fit the schema (issues name each field)'),
  429: ref('Error', 'Rate limit exceeded', { 'Retry-After': { description: 'Seconds until a retry can succeed', schema: { type: 'integer' } } }),
  503: ref('Retriable', 'Unavailable for now: the store or the broker is unreachable; retry later'),
};

/** What each tag's routes are about; a tag not listed here is described by its name. */
export const TAG_DESCRIPTIONS: Record<string, string> = {
  health: 'Liveness and readiness probes',
  observability: 'Prometheus metrics and this document',
  actors: 'Actors, their machines, their changes (SSE) and the subscriber buffer',
  dashboard: 'The dashboard page and its files',
  plugins: 'Health of jobs, consumers, channels and the propagator',
  rules: 'Alert rules',
  readings: 'Device readings, evaluated against the rules',
  alerts: 'Alert events and statistics',
  admin: 'Maintenance (admin rate limit)',
  analytics: 'Periodic analytics snapshots',
};

/** The success answer of a status: its description. */
export const SUCCESS_DESCRIPTIONS: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content' };
