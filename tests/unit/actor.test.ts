import { describe, expect, it } from 'vitest';
import { evaluateActor, type TActorRow } from '@/lib/server/authz/actor';

const CARRIER = '11111111-1111-4111-8111-111111111111';
const RESELLER = '22222222-2222-4222-8222-222222222222';
const OTHER_CARRIER = '33333333-3333-4333-8333-333333333333';

const base: TActorRow = {
  user_id: '44444444-4444-4444-8444-444444444444',
  email: 'ops@reseller.example',
  name: 'Reseller ops',
  user_status: 'active',
  session_version: 3,
  must_change_password: false,
  account_id: RESELLER,
  account_name: 'Reseller',
  account_kind: 'reseller',
  account_path: `${CARRIER}/${RESELLER}/`,
  group_id: '55555555-5555-4555-8555-555555555555',
  group_name: 'Default Reseller',
  grants: ['resellers:read', 'customers:read'],
  group_owner_path: `${CARRIER}/`,
  suspended_in_chain: false,
  mfa_enrolled: false,
  mfa_required: false,
};

describe('evaluateActor: deny by default', () => {
  it.each<[string, Partial<TActorRow>, string]>([
    ['a disabled user', { user_status: 'disabled' }, 'user_disabled'],
    ['a suspended account or ancestor', { suspended_in_chain: true }, 'account_suspended'],
    [
      'no group at all',
      { group_id: null, group_name: null, grants: null, group_owner_path: null },
      'no_group',
    ],
    ["another tenant's group", { group_owner_path: `${OTHER_CARRIER}/` }, 'group_not_usable'],
    [
      "a descendant's group",
      { account_path: `${CARRIER}/`, group_owner_path: `${CARRIER}/${RESELLER}/` },
      'group_not_usable',
    ],
    ['a group with no grants', { grants: [] }, 'no_grants'],
    ['a group with only unknown grants', { grants: ['everything:*', 'admin'] }, 'no_grants'],
  ])('refuses %s', (_name, change, reason) => {
    expect(evaluateActor({ ...base, ...change })).toEqual({ denied: reason });
  });

  it('refuses a session stamped with an older session version', () => {
    expect(evaluateActor(base, 2)).toEqual({ denied: 'stale_session' });
  });

  it('admits a user of an active account using its ancestor carrier group', () => {
    const result = evaluateActor(base, 3);
    expect(result).toEqual({
      actor: {
        userId: base.user_id,
        email: base.email,
        name: base.name,
        mustChangePassword: false,
        sessionVersion: 3,
        account: { id: RESELLER, name: 'Reseller', kind: 'reseller', path: base.account_path },
        group: { id: base.group_id, name: 'Default Reseller' },
        grants: ['resellers:read', 'customers:read'],
        mfa: { enrolled: false, required: false },
      },
    });
  });

  it('carries the MFA facts without deciding on them (the door does)', () => {
    const result = evaluateActor({ ...base, mfa_enrolled: false, mfa_required: true });
    expect('actor' in result && result.actor.mfa).toEqual({ enrolled: false, required: true });
  });

  it('keeps only catalog grants', () => {
    const result = evaluateActor({ ...base, grants: ['cards:read', 'root:all'] });
    expect('actor' in result && result.actor.grants).toEqual(['cards:read']);
  });
});
