import { z } from 'zod';
import type { ErrorStatus, RouteDoc } from './api-docs.ts';
import { needsToken, routeClass } from './guard.ts';
import { ERROR_RESPONSES, ERROR_SCHEMAS, SUCCESS_DESCRIPTIONS, TAG_DESCRIPTIONS } from './openapi-responses.ts';

/** What the document says of the service beyond its routes. */
export interface OpenApiInfo {
  title: string;
  version: string;
  /** Whether API_TOKEN guards mutating routes (and reads, with `tokenReads`). */
  token: boolean;
  tokenReads: boolean;
  /** Whether rate limits apply (ENABLE_RATE_LIMITING): routes then document 429. */
  rateLimited?: boolean;
  /** Where the API is served; the default is the server that serves this document, at its root. */
  servers?: { url: string; description?: string }[];
}

type JsonSchema = Record<string, unknown>;

/** A zod schema as a JSON Schema (what the schema accepts as input: before coercions and defaults apply). */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** `/rules/:id` → `/rules/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, '{$1}');
}

function queryParameters(schema: z.ZodType): JsonSchema[] {
  const json = jsonSchemaOf(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/** `get /rules/{id}` → `getRulesId`; `/` → `getRoot`; `/openapi.json` → `getOpenapiJson`. */
const operationId = (doc: RouteDoc): string => {
  const words = openApiPath(doc.path).split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${doc.method}${name || 'Root'}`;
};

/** The statuses a route answers with, from what it takes and how the guard treats it; `GET /openapi.json` documents each. */
export function statusesOf(doc: RouteDoc, info: OpenApiInfo): number[] {
  const statuses = new Set<number>([doc.status ?? 200]);
  if (doc.query) statuses.add(400);
  if (doc.path.includes(':')) statuses.add(404);
  if (doc.body) for (const status of [400, 413, 422]) statuses.add(status);
  if (info.token && needsToken(doc.method.toUpperCase(), doc.path, info.tokenReads)) statuses.add(401);
  if ((info.rateLimited ?? true) && routeClass(doc.method.toUpperCase(), doc.path) !== 'unlimited') statuses.add(429);
  for (const status of doc.errors ?? []) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

function successResponse(doc: RouteDoc): JsonSchema {
  const status = doc.status ?? 200;
  const description = SUCCESS_DESCRIPTIONS[status]!;
  if (status === 204) return { description };
  const schema = doc.response ? jsonSchemaOf(doc.response) : doc.mediaType ? { type: 'string' } : {};
  return { description, content: { [doc.mediaType ?? 'application/json']: { schema } } };
}

function operationOf(doc: RouteDoc, info: OpenApiInfo): JsonSchema {
  const guarded = info.token && needsToken(doc.method.toUpperCase(), doc.path, info.tokenReads);
  const parameters = [
    ...[...doc.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(doc.query ? queryParameters(doc.query) : []),
  ];
  const responses: Record<string, unknown> = {};
  for (const status of statusesOf(doc, info)) {
    const own = doc.errorBodies?.[status as ErrorStatus];
    if (status < 400) responses[String(status)] = successResponse(doc);
    else if (own) responses[String(status)] = { description: (ERROR_RESPONSES[status]!.description as string), content: { 'application/json': { schema: jsonSchemaOf(own) } } };
    else responses[String(status)] = ERROR_RESPONSES[status];
  }
  return {
    operationId: operationId(doc),
    summary: doc.summary,
    tags: [doc.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(doc.body) } } } } : {}),
    responses,
    // Every operation says whether it needs the token: `[]` is "none", as the guard decides per route.
    security: guarded ? [{ bearer: [] }] : [],
  };
}

/** The OpenAPI 3.1 document of the documented routes, from the same zod schemas that validate them. */
export function buildOpenApi(routes: readonly RouteDoc[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of routes) {
    const path = openApiPath(doc.path);
    (paths[path] ??= {})[doc.method] = operationOf(doc, info);
  }
  const text = JSON.stringify(paths);
  // Only what some operation refers to: an unused component is a lint error, and says nothing true.
  const schemas = Object.fromEntries(Object.entries(ERROR_SCHEMAS).filter(([name]) => text.includes(`"#/components/schemas/${name}"`)));
  const tags = [...new Set(routes.map((doc) => doc.tag))].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? `Routes of ${name}` }));
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, license: { name: 'MIT', identifier: 'MIT' } },
    servers: info.servers ?? [{ url: '/', description: 'The server that serves this document' }],
    tags,
    paths,
    components: {
      ...(info.token ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' } } } : {}),
      schemas,
    },
  };
}
