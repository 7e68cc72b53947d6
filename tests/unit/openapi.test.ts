import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '@/lib/server/api/openapi';

type TSchema = { required?: string[]; properties?: Record<string, { type?: string }> };
const doc = buildOpenApi();
const body = (path: string, method: string) =>
  (
    doc.paths[path]![method] as {
      requestBody: { content: { 'application/json': { schema: TSchema } } };
    }
  ).requestBody.content['application/json'].schema;

describe('OpenAPI document', () => {
  it('covers every v1 endpoint built so far', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'POST /auth/token',
        'GET /me',
        'POST /me/password',
        'GET /me/mfa',
        'POST /me/mfa',
        'DELETE /me/mfa',
        'POST /me/mfa/confirm',
        'DELETE /users/{id}/mfa',
        'GET /tokens',
        'DELETE /tokens/{id}',
        ...['resellers', 'customers', 'users', 'groups', 'cards'].flatMap((r) => [
          `GET /${r}`,
          `POST /${r}`,
          `GET /${r}/{id}`,
          `PATCH /${r}/{id}`,
          `DELETE /${r}/{id}`,
        ]),
        'POST /cards/{id}/derive',
        'GET /cards/{id}/margin',
        'GET /cards/{id}/rates',
        'PUT /cards/{id}/rates',
        'POST /cards/{id}/rates/import',
        'GET /cards/{id}/rates/export',
        'GET /assignments',
        'POST /assignments',
        'DELETE /assignments/{id}',
        'GET /rates/lookup',
        'POST /customers/{id}/transfer',
        'GET /users/{id}/access',
        'GET /users/{id}/manageable',
        'GET /dashboard',
        'GET /audit',
        'POST /impersonation',
        'DELETE /impersonation',
      ].sort(),
    );
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

  it('documents that text refuses control characters, and the route errors', () => {
    const noControl = '^[^\\u0000-\\u001F]*$';
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
