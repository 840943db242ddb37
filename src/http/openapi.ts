import { z } from 'zod';
import type { RouteDoc } from './api-docs.ts';

/** What the document says of the service beyond its routes. */
export interface OpenApiInfo {
  title: string;
  version: string;
  /** Whether API_TOKEN guards mutating routes (and reads, with `tokenReads`). */
  token: boolean;
  tokenReads: boolean;
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

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

function operationOf(doc: RouteDoc, info: OpenApiInfo): JsonSchema {
  const mutating = doc.method !== 'get';
  const guarded = info.token && (mutating || info.tokenReads);
  const parameters = [
    ...[...doc.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(doc.query ? queryParameters(doc.query) : []),
  ];
  const responses: Record<string, unknown> = {
    '200': { description: 'OK', ...(doc.response ? { content: { 'application/json': { schema: jsonSchemaOf(doc.response) } } } : {}) },
    '429': errorResponse('Rate limit exceeded (Retry-After says when to retry)'),
  };
  if (doc.query || doc.path.includes(':')) responses['400'] = errorResponse('A query parameter is invalid');
  if (doc.path.includes(':')) responses['404'] = errorResponse('Not found');
  if (doc.body) {
    responses['400'] = errorResponse('The body is not JSON');
    responses['413'] = errorResponse('The body is too large');
    responses['422'] = errorResponse('The body does not fit the schema (issues name each field)');
  }
  if (guarded) responses['401'] = errorResponse('Missing or wrong bearer token');
  return {
    operationId: `${doc.method}${openApiPath(doc.path).replace(/[{}]/g, '').replace(/\/(.)/g, (_, c: string) => c.toUpperCase())}`,
    summary: doc.summary,
    tags: [doc.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(doc.body) } } } } : {}),
    responses,
    ...(guarded ? { security: [{ bearer: [] }] } : {}),
  };
}

/** The OpenAPI 3.1 document of the documented routes, from the same zod schemas that validate them. */
export function buildOpenApi(routes: readonly RouteDoc[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of routes) {
    const path = openApiPath(doc.path);
    (paths[path] ??= {})[doc.method] = operationOf(doc, info);
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'code'],
          properties: {
            error: { type: 'string' },
            code: { type: 'string' },
            detail: { type: 'string' },
            issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}
