import { describe, expect, it } from 'vitest';
import {
  accountScopePath,
  aboveFilter,
  belowSql,
  holdingFilter,
  holdsSql,
  isBelow,
  isWithin,
  scopeFor,
  withinSql,
} from '@/lib/server/authz/scope';
import { groupRelation } from '@/lib/server/authz/group-relation';
import type { TActor } from '@/lib/server/authz/actor';
import type { TGrant } from '@/lib/shared/permissions';

const actor = (path: string, grants: TGrant[]): TActor => ({
  userId: 'u',
  email: 'u@x.test',
  name: 'u',
  mustChangePassword: false,
  sessionVersion: 1,
  account: { id: path.split('/').filter(Boolean).at(-1)!, name: 'A', kind: 'reseller', path },
  group: { id: 'g', name: 'G' },
  grants,
  mfa: { enrolled: false, required: false },
});

describe('the scope rule', () => {
  it('is a path prefix, and a sibling sharing characters is outside', () => {
    expect(isWithin('c/r1/', 'c/r1/k/')).toBe(true);
    expect(isWithin('c/r1/', 'c/r10/')).toBe(false);
    expect(isWithin('c/r1/', null)).toBe(false);
  });

  it('tells strictly below from the account itself', () => {
    expect(isBelow('c/r1/', 'c/r1/k/')).toBe(true);
    expect(isBelow('c/r1/', 'c/r1/')).toBe(false);
    expect(isBelow('c/r1/', 'c/r10/')).toBe(false);
    expect(isBelow('c/r1/', undefined)).toBe(false);
  });

  it('writes the rule as SQL with LIKE metacharacters escaped', () => {
    expect(withinSql('o.path', 'c_1/r%/')).toEqual({
      sql: 'o.path like ?',
      params: ['c\\_1/r\\%/%'],
    });
    expect(belowSql('path', 'a\\b/')).toEqual({ sql: 'path like ?', params: ['a\\\\b/_%'] });
    expect(holdsSql('scope', 'c/r1/')).toEqual({ sql: 'starts_with(?, scope)', params: ['c/r1/'] });
  });

  it('reads the rule the other way round as the ids on a path', () => {
    expect(holdingFilter('c/r1/k/')).toEqual({ id: { $in: ['c', 'r1', 'k'] } });
    expect(aboveFilter('c/r1/k/')).toEqual({ id: { $in: ['c', 'r1'] } });
    expect(aboveFilter('c/')).toEqual({ id: { $in: [] } });
  });

  it("puts an account under its parent's path; a carrier under none", () => {
    expect(accountScopePath({ id: 'k', path: 'c/r1/k/' })).toBe('c/r1/');
    expect(accountScopePath({ id: 'c', path: 'c/' })).toBeNull();
  });

  it('gives every kind its filter, resellers and customers strictly below', () => {
    const a = actor('c/r1/', []);
    expect(scopeFor(a, 'reseller')).toEqual({ kind: 'reseller', path: { $like: 'c/r1/_%' } });
    expect(scopeFor(a, 'user')).toEqual({ account: { path: { $like: 'c/r1/%' } } });
    expect(scopeFor(a, 'account')).toEqual({ path: { $like: 'c/r1/%' } });
  });
});

describe('group relation', () => {
  const group = (ownerPath: string, grants: TGrant[]) => ({ grants, account: { path: ownerPath } });
  it.each<[string, TActor, ReturnType<typeof group>, 'owner' | 'use-only' | null]>([
    [
      'own group with groups:read',
      actor('c/r1/', ['groups:read']),
      group('c/r1/', ['customers:read']),
      'owner',
    ],
    ['own group without groups:read', actor('c/r1/', ['users:create']), group('c/r1/', []), null],
    ['sub-account group', actor('c/r1/', ['groups:read']), group('c/r1/s/', []), 'owner'],
    [
      'ancestor group it may assign',
      actor('c/r1/', ['users:create', 'customers:read']),
      group('c/', ['customers:read']),
      'use-only',
    ],
    [
      'ancestor group beyond its grants',
      actor('c/r1/', ['users:create']),
      group('c/', ['audit:delete']),
      null,
    ],
    [
      'ancestor group without assign rights',
      actor('c/r1/', ['groups:read']),
      group('c/', []),
      null,
    ],
    [
      "a sibling's group",
      actor('c/r1/', ['groups:read', 'users:create']),
      group('c/r2/', []),
      null,
    ],
  ])('%s', (_name, viewer, target, relation) => {
    expect(groupRelation(viewer, target)).toBe(relation);
  });
});
