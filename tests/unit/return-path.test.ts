import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '@/lib/shared/return-path';

describe('safeReturnPath', () => {
  it('keeps a page of this panel, its query included', () => {
    expect(safeReturnPath('/customers/6f1c?tab=balance')).toBe('/customers/6f1c?tab=balance');
    expect(safeReturnPath('/')).toBe('/');
    expect(safeReturnPath('/cards?_rsc=abc1&q=x')).toBe('/cards?q=x');
    // The query as written: not re-encoded.
    expect(safeReturnPath('/usage?from=2026-12-01T00:00:00.000Z&a=//x')).toBe(
      '/usage?from=2026-12-01T00:00:00.000Z&a=//x',
    );
    // Dot segments resolved as a browser resolves them, and judged so.
    expect(safeReturnPath('/a/../customers')).toBe('/customers');
  });

  it('refuses anything that leaves the origin, the sign-in page, the API or is not text', () => {
    for (const value of [
      '//evil.example/x',
      '/.//evil.example',
      '/..//evil.example',
      '/a/..//evil.example',
      '/%2e%2e//evil.example',
      '/%2e//evil.example',
      '/./login',
      '/\\evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      'customers',
      '/login',
      '/login?next=/x',
      '/api/v1/me',
      '/a\u0000b',
      '/a\nb',
      `/${'x'.repeat(2_001)}`,
      undefined,
      null,
      42,
    ]) {
      expect(safeReturnPath(value), JSON.stringify(value)).toBeNull();
    }
  });
});
