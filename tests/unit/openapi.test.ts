import { describe, expect, it } from 'vitest';
import Ajv2020 from 'ajv/dist/2020';
import { buildOpenApi } from '@/lib/server/api/openapi';
import { API_OPERATION_LIST } from '@/lib/server/api/registry';

type TSchema = { required?: string[]; properties?: Record<string, { type?: string }> };
const doc = buildOpenApi();
const body = (path: string, method: string) =>
  (
    doc.paths[path]![method] as {
      requestBody: { content: { 'application/json': { schema: TSchema } } };
    }
  ).requestBody.content['application/json'].schema;

describe('OpenAPI document', () => {
  it('documents every operation of the route registry, catch-up and itself included', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      API_OPERATION_LIST.map(({ method, path }) => `${method} ${path}`).sort(),
    );
    expect(operations).toContain('GET /events');
    expect(operations).toContain('GET /openapi.json');
  });

  it('declares a response for every success: a JSON schema, CSV, or no body', () => {
    type TResponses = Record<string, { content?: Record<string, { schema?: unknown }> }>;
    const undeclared = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, { responses: TResponses }>).flatMap(([method, op]) =>
        Object.entries(op.responses)
          .filter(([status]) => Number(status) < 300 && status !== '204')
          .filter(([, response]) => !response.content)
          .map(([status]) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    expect(undeclared).toEqual([]);
    const events = doc.paths['/events']!.get as {
      parameters: { name: string }[];
      responses: Record<string, { content?: { 'application/json': { schema: TSchema } } }>;
    };
    expect(events.parameters.map((p) => p.name)).toEqual(['since', 'limit']);
    expect(events.responses['200']!.content!['application/json'].schema.required?.sort()).toEqual([
      'items',
      'seq',
    ]);
    expect(events.responses).toHaveProperty('410');
  });

  it('takes request bodies from the validating schemas', () => {
    expect(body('/resellers', 'post').required?.sort()).toEqual(['email', 'name']);
    expect(body('/users', 'post').required?.sort()).toEqual([
      'accountId',
      'email',
      'groupId',
      'password',
    ]);
    expect(body('/customers/{id}', 'patch').required).toEqual(['version']);
    expect(body('/me/mfa/confirm', 'post').required).toEqual(['otp']);
    expect(body('/auth/token', 'post').properties).toHaveProperty('otp');
    expect(body('/groups/{id}', 'patch').properties).toHaveProperty('requireMfa');
    // Money is a decimal string, never a JSON number.
    expect(body('/customers', 'post').properties?.creditLimit?.type).toBe('string');
  });

  it('documents the logo upload’s image body and the public logo', () => {
    const put = doc.paths['/accounts/{id}/brand/logo']!.put as {
      requestBody: { content: Record<string, unknown> };
    };
    expect(Object.keys(put.requestBody.content).sort()).toEqual([
      'image/png',
      'image/svg+xml',
      'image/webp',
    ]);
    const get = doc.paths['/logos/{sha256}']!.get as {
      security?: unknown[];
      responses: Record<string, { content?: Record<string, unknown> }>;
    };
    expect(get.security).toEqual([]);
    expect(Object.keys(get.responses['200']!.content!).sort()).toEqual([
      'image/png',
      'image/svg+xml',
      'image/webp',
    ]);
  });

  it('documents that text refuses control characters, and the route errors', () => {
    const noControl = '^[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$';
    const name = body('/customers', 'post').properties?.name as { pattern?: string };
    expect(name.pattern).toBe(noControl);
    const token = body('/auth/token', 'post').properties as Record<string, { pattern?: string }>;
    expect(token.email?.pattern).toBe(noControl);
    expect(token.password?.pattern).toBe(noControl);
    expect(doc.info.description).toMatch(/404 `not_found`.*405 `method_not_allowed`.*`Allow`/);
  });

  it('marks the token endpoint public and throttled', () => {
    const op = doc.paths['/auth/token']!.post as {
      security: unknown[];
      responses: Record<string, unknown>;
    };
    expect(op.security).toEqual([]);
    expect(op.responses).toHaveProperty('429');
    const change = doc.paths['/me/password']!.post as { responses: Record<string, unknown> };
    expect(change.responses).toHaveProperty('429');
  });
});

describe('the OpenAPI document as JSON Schema 2020-12', () => {
  it('compiles: every request and response schema, with the components it refers to', () => {
    // A client generator or a validator reads the whole document first: one schema it
    // refuses (an empty `prefixItems` was one) fails the whole API for it.
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const refuse: string[] = [];
    const walk = (where: string, schema: unknown) => {
      try {
        // `#/components/...` in an operation's schema resolves against the document.
        const rooted = JSON.parse(
          JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'),
        );
        ajv.compile(rooted);
      } catch (error) {
        refuse.push(`${where}: ${(error as Error).message.slice(0, 200)}`);
      }
    };
    type TContent = Record<string, { schema?: unknown }>;
    type TOperation = {
      requestBody?: { content: TContent };
      responses: Record<string, { content?: TContent }>;
    };
    let compiled = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods as Record<string, TOperation>)) {
        const contents = [
          ...(op.requestBody ? [['request', op.requestBody.content] as const] : []),
          ...Object.entries(op.responses).map(([status, r]) => [status, r.content ?? {}] as const),
        ];
        for (const [which, content] of contents) {
          for (const [type, { schema }] of Object.entries(content)) {
            if (!schema) continue;
            walk(`${method.toUpperCase()} ${path} ${which} ${type}`, schema);
            compiled += 1;
          }
        }
      }
    }
    expect(refuse).toEqual([]);
    expect(compiled).toBeGreaterThan(API_OPERATION_LIST.length);
  });
});
