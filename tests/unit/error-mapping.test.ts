import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  CheckConstraintViolationException,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
} from '@mikro-orm/core';
import { errorResponse } from '@/lib/server/api/handler';
import { getLogger } from '@/lib/server/observability/logger';
import { ApiError, HTTP_STATUS } from '@/lib/server/api/errors';
import {
  DOMAIN_ERROR_KINDS,
  DomainError,
  conflict,
  forbidden,
  invalidInput,
  notFound,
  staleVersion,
} from '@/lib/server/errors/domain-error';
import { ZGroupCreate } from '@/lib/shared/schemas/groups';
import { ZUsageRerate } from '@/lib/shared/schemas/usage';

async function answer(error: unknown) {
  const response = errorResponse(error);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe('domain errors over HTTP', () => {
  it('gives every kind a status', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...DOMAIN_ERROR_KINDS].sort());
  });

  it('answers each with its status and the body clients already parse, byte for byte', async () => {
    expect(await answer(notFound('card'))).toMatchObject({
      status: 404,
      text: '{"error":{"code":"not_found","message":"No such card."}}',
    });
    expect(await answer(forbidden('cards:read'))).toMatchObject({
      status: 403,
      text: '{"error":{"code":"forbidden","message":"Your group does not grant cards:read."}}',
    });
    expect(await answer(invalidInput({ name: 'is required' }))).toMatchObject({
      status: 400,
      text: '{"error":{"code":"invalid_input","message":"Invalid input: name.","fields":{"name":"is required"}}}',
    });
    expect((await answer(staleVersion({ id: 'x', version: 2 }))).status).toBe(409);
    expect((await answer(conflict('has_dependants', 'In use.'))).status).toBe(409);
    expect((await answer(new DomainError('gone', 'resync_required', 'Fetch afresh.'))).status).toBe(
      410,
    );
  });

  it('sends Retry-After with a throttle, and HTTP’s own refusals keep their status', async () => {
    const throttled = await answer(
      new DomainError('throttled', 'throttled', 'Later.', { retryAfterSeconds: 7 }),
    );
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    const tooLarge = await answer(new ApiError(413, 'payload_too_large', 'Too large.'));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.text).toBe('{"error":{"code":"payload_too_large","message":"Too large."}}');
  });
});

describe('what the database refuses', () => {
  it('is logged by its rule alone, never the row it quotes (a password hash)', async () => {
    const warn = vi.spyOn(getLogger(), 'warn');
    try {
      const refused = Object.assign(
        new Error('insert into "app_user" … - new row violates check constraint "user_name_check"'),
        {
          code: '23514',
          constraint: 'user_name_check',
          table: 'app_user',
          detail: 'Failing row contains (…, $argon2id$v=19$m=65536$secret-hash, …)',
        },
      );
      expect((await answer(new CheckConstraintViolationException(refused))).status).toBe(400);
      const logged = JSON.stringify(warn.mock.calls);
      expect(logged).toContain('user_name_check');
      expect(logged).not.toContain('argon2id');
      expect(logged).not.toContain('insert into');
    } finally {
      warn.mockRestore();
    }
  });

  it('a check or a missing value is the caller’s input (400), a removed reference a race (409): never a 500', async () => {
    const driver = (code: string) => Object.assign(new Error(`violates (${code})`), { code });
    const check = await answer(new CheckConstraintViolationException(driver('23514')));
    expect(check.status).toBe(400);
    expect(JSON.parse(check.text).error.code).toBe('invalid_input');
    expect(check.text).not.toContain('violates');
    const missing = await answer(new NotNullConstraintViolationException(driver('23502')));
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text).error.code).toBe('invalid_input');
    const gone = await answer(new ForeignKeyConstraintViolationException(driver('23503')));
    expect(gone.status).toBe(409);
    expect(JSON.parse(gone.text).error.code).toBe('conflict');
  });
});

describe('bad input named by field', () => {
  /** The fields a 400 names for `value` under `schema`. */
  async function fieldsOf(schema: z.ZodType, value: unknown) {
    const result = schema.safeParse(value);
    expect(result.success).toBe(false);
    const response = await answer(result.error);
    expect(response.status).toBe(400);
    return (JSON.parse(response.text) as { error: { fields: Record<string, string> } }).error
      .fields;
  }

  it('names the field inside the union member that got furthest, not the whole body', async () => {
    expect(await fieldsOf(ZGroupCreate, { name: 'G', grants: ['nope'] })).toEqual({
      'grants.0': 'is not a grant in the catalog',
    });
    // A tie goes to the first member declared.
    expect(await fieldsOf(ZGroupCreate, { name: 'G' })).toEqual({
      grants: 'must be a list of grants',
    });
    expect(await fieldsOf(ZGroupCreate, { template: 'nope' })).toEqual({
      template: 'must be one of default-reseller, default-customer',
    });
    // Nested: the member's paths are under the union's own.
    const nested = z.object({
      items: z.array(
        z.object({ to: z.union([z.uuid('must be an id'), z.object({ n: z.int() })]) }),
      ),
    });
    expect(await fieldsOf(nested, { items: [{ to: { n: 'x' } }] })).toEqual({
      'items.0.to.n': expect.any(String),
    });
    // No member got into the value (the wrong type altogether): the union's own message.
    expect(await fieldsOf(ZUsageRerate, 5)).toEqual({
      body: 'must be {"ids": [...], "idempotencyKey"} or {"all": true, "idempotencyKey"}',
    });
    expect(
      await fieldsOf(z.object({ at: z.union([z.string(), z.number()]) }), { at: true }),
    ).toEqual({ at: 'Invalid input' });
  });
});
