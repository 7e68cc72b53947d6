import { describe, expect, it } from 'vitest';
import { affectsAccess } from '@/lib/server/live/affects-access';
import type { TChange } from '@/lib/server/live/change-log';

const USER = {
  id: 'u1',
  email: 'a@example.test',
  name: 'Ann',
  accountId: 'r1',
  groupId: 'g1',
  status: 'active',
  mustChangePassword: false,
  mfaEnabled: false,
  version: 1,
};
const GROUP = { id: 'g1', name: 'Ops', grants: ['users:read', 'cards:read'], requireMfa: false };
const RESELLER = { id: 'r1', name: 'Acme', status: 'active', parentId: 'c', version: 1 };

function updated(
  resource: 'users' | 'groups' | 'resellers' | 'customers',
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  extra: Partial<TChange> = {},
): TChange {
  return {
    resource,
    entityId: String(before.id),
    op: 'updated',
    version: 2,
    before,
    after,
    scopeBefore: 'c/r1/',
    scopeAfter: 'c/r1/',
    ...extra,
  } as TChange;
}

describe('whether a change affects access (stored once with the entry)', () => {
  it('is false for a rename of a group, a reseller, a customer or a user', () => {
    expect(affectsAccess(updated('groups', GROUP, { ...GROUP, name: 'Support' }))).toBe(false);
    expect(affectsAccess(updated('resellers', RESELLER, { ...RESELLER, name: 'Acme 2' }))).toBe(
      false,
    );
    expect(affectsAccess(updated('customers', RESELLER, { ...RESELLER, name: 'K 2' }))).toBe(false);
    expect(affectsAccess(updated('users', USER, { ...USER, name: 'Anne' }))).toBe(false);
  });

  it('is false when a group lists the same grants in another order', () => {
    const reordered = { ...GROUP, grants: [...GROUP.grants].reverse() };
    expect(affectsAccess(updated('groups', GROUP, reordered))).toBe(false);
  });

  it('is true when a group’s grants or MFA requirement change', () => {
    const more = { ...GROUP, grants: [...GROUP.grants, 'groups:read'] };
    expect(affectsAccess(updated('groups', GROUP, more))).toBe(true);
    expect(affectsAccess(updated('groups', GROUP, { ...GROUP, requireMfa: true }))).toBe(true);
  });

  it('is true when an account’s effective status changes or it moves', () => {
    const suspended = { ...RESELLER, status: 'suspended' };
    expect(
      affectsAccess(
        updated('resellers', RESELLER, suspended, {
          summary: { refetch: ['resellers', 'customers'], reason: 'status_cascade' },
        }),
      ),
    ).toBe(true);
    expect(affectsAccess(updated('customers', RESELLER, suspended))).toBe(true);
    const moved = updated(
      'customers',
      RESELLER,
      { ...RESELLER, parentId: 'r2' },
      {
        scopeAfter: 'c/r2/',
        summary: { reason: 'transfer' },
      },
    );
    expect(affectsAccess(moved)).toBe(true);
  });

  it('is true when a user moves group, is disabled, deleted or loses its sessions', () => {
    expect(affectsAccess(updated('users', USER, { ...USER, groupId: 'g2' }))).toBe(true);
    expect(affectsAccess(updated('users', USER, { ...USER, status: 'disabled' }))).toBe(true);
    expect(affectsAccess(updated('users', USER, { ...USER, mustChangePassword: true }))).toBe(true);
    expect(
      affectsAccess(
        updated('users', USER, { ...USER, version: 3 }, { summary: { sessionsRevoked: true } }),
      ),
    ).toBe(true);
    expect(
      affectsAccess(
        updated('users', USER, USER, { summary: { passwordChanged: true, sessionsEnded: 1 } }),
      ),
    ).toBe(true);
    expect(
      affectsAccess({ ...updated('users', USER, USER), op: 'deleted', after: null } as TChange),
    ).toBe(true);
    expect(
      affectsAccess(updated('users', USER, USER, { summary: { mfaRecoveryCodeUsed: true } })),
    ).toBe(false);
  });

  it('is true for a view-as and for a credential ended, never for a card', () => {
    const base = { version: null, before: null, scopeBefore: null, scopeAfter: 'c/' };
    expect(
      affectsAccess({
        ...base,
        resource: 'impersonation',
        entityId: 'i',
        op: 'created',
        after: {},
      }),
    ).toBe(true);
    expect(
      affectsAccess({ ...base, resource: 'sessions', entityId: 's', op: 'deleted', after: null }),
    ).toBe(true);
    expect(
      affectsAccess({ ...base, resource: 'tokens', entityId: 't', op: 'created', after: {} }),
    ).toBe(false);
    expect(
      affectsAccess({
        ...base,
        resource: 'cards',
        entityId: 'k',
        op: 'updated',
        after: {},
        summary: { event: 'rates_changed', cause: 'put', rows: 1, losing: 0 },
        audience: { holders: ['r1'] },
      }),
    ).toBe(false);
  });
});
