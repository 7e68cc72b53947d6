import { z } from 'zod';
import { ZErrorBody } from '@/lib/shared/schemas/common';
import { LOGO_TYPES } from '@/lib/shared/schemas/brands';
import { API_REGISTRY, errorStatuses, type TOperation, type TSuccessBody } from './registry';

/**
 * OpenAPI 3.1 for /api/v1, generated from the route registry: the very zod schemas the
 * handlers validate with and the DTO schemas their answers follow, so the document
 * cannot drift.
 */
const schemaOf = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

function parametersOf(shape: Record<string, unknown> | undefined, where: 'path' | 'query') {
  return Object.entries(shape ?? {}).map(([name, field]) => ({
    name,
    in: where,
    required: where === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: schemaOf(field as z.ZodType, 'input'),
  }));
}

function success(body: TSuccessBody) {
  if (body === null) return { description: 'Done' };
  if (body === 'text/csv') {
    return { description: 'OK', content: { 'text/csv': { schema: { type: 'string' } } } };
  }
  if (body === 'image') return { description: 'OK', content: imageContent(LOGO_TYPES) };
  if (body === 'application/pdf') {
    return {
      description: 'OK',
      content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
    };
  }
  return {
    description: 'OK',
    content: { 'application/json': { schema: schemaOf(body, 'output') } },
  };
}

/** Raw image bodies, one entry per media type (OpenAPI 3.1: any bytes). */
function imageContent(types: readonly string[]) {
  return Object.fromEntries(types.map((type) => [type, { schema: { contentMediaType: type } }]));
}

function operation(path: string, method: string, op: TOperation) {
  const parameters = [
    ...parametersOf(op.params?.shape, 'path'),
    ...parametersOf(op.query?.shape, 'query'),
  ];
  const error = {
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    operationId: `${method.toLowerCase()}${path
      .replace(/[{}]/g, '')
      .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
      .replace(/\W/g, '')}`,
    summary: op.summary,
    ...(op.grant
      ? { description: `Requires the grant \`${op.grant}\`. Outside the caller's scope: 404.` }
      : {}),
    ...(op.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    // JSON, CSV, or either (`POST /usage` takes both), or an image (a logo).
    ...(op.body || op.csvBody || op.imageBody
      ? {
          requestBody: {
            required: true,
            content: {
              ...(op.body ? { 'application/json': { schema: schemaOf(op.body, 'input') } } : {}),
              ...(op.csvBody ? { 'text/csv': { schema: { type: 'string' } } } : {}),
              ...(op.imageBody ? imageContent(op.imageBody) : {}),
            },
          },
        }
      : {}),
    responses: {
      ...Object.fromEntries(
        Object.entries(op.responses).map(([status, body]) => [status, success(body ?? null)]),
      ),
      ...Object.fromEntries(
        Object.entries(errorStatuses(op)).map(([status, description]) => [
          status,
          { description, ...error },
        ]),
      ),
    },
  };
}

export function buildOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(API_REGISTRY)) {
    paths[path] = Object.fromEntries(
      Object.entries(methods as Record<string, TOperation>).map(([method, op]) => [
        method.toLowerCase(),
        operation(path, method, op),
      ]),
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Reseller Panel API',
      version: '1',
      description:
        'Money travels as decimal strings. Lists are paged with `limit` and `cursor`. ' +
        'Text never holds a NUL or another control character (C0, DEL, C1, or a ' +
        'text-direction embedding, override or isolate), nor half of a UTF-16 pair ' +
        '(400 naming the field). An operation takes only the query parameters listed ' +
        'for it, each once (400 naming any other, or one given twice). ' +
        'A path not listed here answers 404 `not_found`; a method a path does not serve ' +
        'answers 405 `method_not_allowed` with `Allow`. Any request may also be refused ' +
        'with 413 `payload_too_large` (a body over the limit), 415 `unsupported_media_type` ' +
        'or 503 `unavailable` (starting, or the database away; see Retry-After).',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from POST /auth/token' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'next-auth.session-token',
          description:
            "The panel's session (named `__Host-next-auth.session-token` when the panel is served over https). A write with it must name the panel's origin in Origin (or Referer) and send JSON (text/csv on the rates import, the image on a logo upload): 403 `cross_origin`, 415 `unsupported_media_type` otherwise.",
        },
      },
      schemas: { Error: schemaOf(ZErrorBody, 'output') },
    },
    paths,
  };
}
