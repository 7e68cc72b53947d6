import { describe, expect, it } from 'vitest';
import { accountScopePath, isWithin, scopeFor } from '@/lib/server/authz/scope';
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

  it("puts an account under its parent's path; a carrier under none", () => {
    expect(accountScopePath({ id: 'k', path: 'c/r1/k/' })).toBe('c/r1/');
    expect(accountScopePath({ id: 'c', path: 'c/' })).toBeNull();
  });

  it('gives every kind its filter, resellers and customers strictly below', () => {
    const a = actor('c/r1/', []);
    expect(scopeFor(a, 'reseller')).toEqual({
      kind: 'reseller',
      path: { $like: 'c/r1/%' },
      id: { $ne: 'r1' },
    });
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
