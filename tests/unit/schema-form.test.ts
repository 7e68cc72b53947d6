import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  fieldMessages,
  optional,
  schemaResolver,
  unshownMessage,
} from '@/lib/client/use-schema-form';
import { ZCustomerCreate } from '@/lib/shared/schemas/accounts';
import { ZGroupPatch } from '@/lib/shared/schemas/groups';
import { ZUserCreate } from '@/lib/shared/schemas/users';
import { ZPrice } from '@/lib/shared/schemas/rates';
import { ZAdjustmentCreate } from '@/lib/shared/schemas/ledger';
import { ZTransfer } from '@/lib/shared/schemas/cards';

const options = { fields: {}, shouldUseNativeValidation: false } as const;

describe('a form checked by its endpoint’s schema', () => {
  it('names each bad field with the message the server gives', async () => {
    const resolve = schemaResolver(ZUserCreate, (values: Record<string, string>) => values);
    const { errors } = await resolve(
      { email: 'not-an-email', password: 'short', accountId: 'x', groupId: '' },
      undefined,
      options,
    );
    const server = z.flattenError(
      ZUserCreate.safeParse({
        email: 'not-an-email',
        password: 'short',
        accountId: 'x',
        groupId: '',
      }).error!,
    ).fieldErrors;
    expect(fieldMessages(errors)).toEqual({
      email: server.email![0],
      password: server.password![0],
      accountId: server.accountId![0],
      groupId: 'is required: every user has exactly one group',
    });
  });

  it('hands submit the schema’s output: the body as the API takes it', async () => {
    const resolve = schemaResolver(ZCustomerCreate, (values: { name: string; email: string }) => ({
      name: values.name,
      email: optional(values.email),
    }));
    const blank = await resolve({ name: '  Hotel  ', email: ' ' }, undefined, options);
    expect(blank).toEqual({ values: { name: 'Hotel' }, errors: {} });
    const mixed = await resolve({ name: 'Hotel', email: 'Desk@Hotel.TEST' }, undefined, options);
    expect(mixed.values).toEqual({ name: 'Hotel', email: 'desk@hotel.test' });
  });

  it('reports a list field by its first bad item', async () => {
    const resolve = schemaResolver(ZGroupPatch, (values: { grants: string[] }) => ({
      version: 3,
      grants: values.grants,
    }));
    const { errors } = await resolve({ grants: ['users:read', 'users:fly'] }, undefined, options);
    expect(fieldMessages(errors)).toEqual({ grants: 'is not a grant in the catalog' });
  });
});

describe('errors on fields a form does not show', () => {
  it('become the form message, each named; none when every field is shown', () => {
    const messages = {
      parentId: 'is already 4 levels below the carrier',
      moreParents: 'names a card twice',
      name: 'is required',
    };
    expect(unshownMessage(messages, new Set(['name']))).toBe(
      'Parent: is already 4 levels below the carrier; More parents: names a card twice',
    );
    expect(unshownMessage(messages, new Set(Object.keys(messages)))).toBeNull();
    expect(unshownMessage({}, new Set())).toBeNull();
  });
});

describe('an amount typed wrong', () => {
  it('is told so for a rate, a correction and a conversion rate too, each in its own shape', () => {
    const first = (schema: z.ZodType, value: unknown) =>
      schema.safeParse(value).error?.issues[0]?.message;
    expect(first(ZPrice, '0,0123')).toBe('must use a dot for decimals, such as "0.0123"');
    expect(first(ZPrice, '-0.01')).toBe('must not be negative');
    expect(first(ZPrice, '1234567')).toBe('must have at most 6 digits before the point');
    const correction = ZAdjustmentCreate.shape.amount;
    expect(first(correction, '-12,50')).toBe('must use a dot for decimals, such as "-12.50"');
    expect(first(correction, '-1.1234567')).toBe('must have at most 6 decimals');
    expect(correction.safeParse('-12.50').success).toBe(true);
    const rate = ZTransfer.shape.rate;
    expect(first(rate, '1,0850')).toBe('must use a dot for decimals, such as "1.0850"');
    expect(first(rate, '1.123456789')).toBe('must have at most 8 decimals');
  });

  it('is told what is wrong with it, in the form as on the server', async () => {
    const resolve = schemaResolver(ZCustomerCreate, (values: Record<string, string>) => values);
    const cases: [string, string][] = [
      ['-5', 'must not be negative'],
      ['12,50', 'must use a dot for decimals, such as "12.50"'],
      ['1234567890123', 'must have at most 12 digits before the point'],
      ['1.1234567', 'must have at most 6 decimals'],
      ['twelve', 'must be a decimal string such as "12.50" (up to 6 decimals)'],
    ];
    for (const [typed, said] of cases) {
      const { errors } = await resolve({ name: 'Amounts', creditLimit: typed }, undefined, options);
      expect(fieldMessages(errors), typed).toEqual({ creditLimit: said });
      const server = ZCustomerCreate.safeParse({ name: 'Amounts', creditLimit: typed });
      expect(server.error?.issues[0]?.message, typed).toBe(said);
    }
    const { errors } = await resolve(
      { name: 'Amounts', creditLimit: ' 12.50 ' },
      undefined,
      options,
    );
    expect(errors).toEqual({});
  });
});
