import { describe, expect, it } from 'vitest';
import { placeInTree } from '@/lib/server/services/accounts/account-tree';

describe('materialized path', () => {
  it('makes a carrier a root at depth 0', () => {
    expect(placeInTree(null, 'c1')).toEqual({ id: 'c1', path: 'c1/', depth: 0 });
  });

  it('appends a child under its parent', () => {
    const reseller = placeInTree({ path: 'c1/', depth: 0 }, 'r1');
    const customer = placeInTree(reseller, 'k1');
    expect(reseller).toEqual({ id: 'r1', path: 'c1/r1/', depth: 1 });
    expect(customer).toEqual({ id: 'k1', path: 'c1/r1/k1/', depth: 2 });
  });

  it('generates a fresh id when none is given', () => {
    const { id, path } = placeInTree(null);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(path).toBe(`${id}/`);
  });
});
