import { describe, expect, it } from 'vitest';
import { assertDeclaredResponse } from '../fixtures/declared-response';

const ID = '6f1c1d1e-0000-4000-8000-000000000001';
const counts = { resellers: 1, customers: null, users: 3, cards: 0 };

describe('the integration tests’ response check against the route registry', () => {
  it('passes an answer that is what its operation declares', () => {
    expect(() => assertDeclaredResponse('GET', '/dashboard', 200, counts)).not.toThrow();
    expect(() => assertDeclaredResponse('DELETE', `/cards/${ID}`, 204, null)).not.toThrow();
    expect(() =>
      assertDeclaredResponse('GET', `/cards/${ID}?x=1`, 404, {
        error: { code: 'not_found', message: 'No such card.' },
      }),
    ).not.toThrow();
    expect(() =>
      assertDeclaredResponse('GET', '/events?since=1', 410, {
        error: { code: 'resync_required', message: 'fetch afresh' },
      }),
    ).not.toThrow();
  });

  it('names the operation and the field when the body does not match', () => {
    expect(() =>
      assertDeclaredResponse('GET', '/dashboard', 200, { ...counts, cards: '0' }),
    ).toThrow(/GET \/dashboard → 200: the body does not match its declared schema — cards:/);
    expect(() => assertDeclaredResponse('GET', '/dashboard', 200, { ...counts, extra: 1 })).toThrow(
      /fields its declared schema does not name: extra/,
    );
    expect(() => assertDeclaredResponse('GET', `/cards/${ID}`, 403, { message: 'x' })).toThrow(
      /does not match/,
    );
  });

  it('refuses a status the operation does not declare', () => {
    expect(() => assertDeclaredResponse('GET', '/dashboard', 201, counts)).toThrow(
      /status not declared for GET \/dashboard/,
    );
    // Only throttled operations may answer 429; catch-up's 410 is its own.
    expect(() =>
      assertDeclaredResponse('GET', '/me', 429, { error: { code: 'throttled', message: 'x' } }),
    ).toThrow(/status not declared/);
    expect(() =>
      assertDeclaredResponse('GET', '/me', 410, { error: { code: 'gone', message: 'x' } }),
    ).toThrow(/status not declared/);
    expect(() => assertDeclaredResponse('DELETE', `/cards/${ID}`, 204, { id: ID })).toThrow(
      /declared without a body/,
    );
  });
});
