import { describe, expect, it } from 'vitest';
import {
  ALL_GRANTS,
  DEFAULT_CUSTOMER_GRANTS,
  DEFAULT_RESELLER_GRANTS,
  GROUP_TEMPLATES,
  isGrant,
} from '@/lib/shared/permissions';

describe('grant catalog', () => {
  it('has every resource:action pair plus the extra grants, once each', () => {
    expect(ALL_GRANTS).toHaveLength(8 * 4 + 11);
    expect(new Set(ALL_GRANTS).size).toBe(ALL_GRANTS.length);
    expect(ALL_GRANTS).toContain('audit:delete');
    expect(ALL_GRANTS).toContain('impersonation:start');
    expect(ALL_GRANTS).toContain('payments:create');
    expect(ALL_GRANTS).toContain('ledger:read');
    expect(ALL_GRANTS).toContain('calls:authorize');
    expect(ALL_GRANTS).toContain('usage:create');
    expect(ALL_GRANTS).toContain('usage:read');
    expect(ALL_GRANTS).toContain('brand:read');
    expect(ALL_GRANTS).toContain('brand:update');
    expect(ALL_GRANTS).toContain('statements:read');
    expect(ALL_GRANTS).toContain('statements:create');
    expect(ALL_GRANTS).toContain('adjustments:create');
  });

  it('recognises catalog grants only', () => {
    expect(isGrant('cards:read')).toBe(true);
    expect(isGrant('cards:*')).toBe(false);
    expect(isGrant('impersonation:stop')).toBe(false);
  });

  it('gives the Default Reseller template exactly the grants of DESIGN §1 and issues 17–19', () => {
    const expected = [
      ...['read', 'create', 'update'].map((a) => `resellers:${a}`),
      ...['read', 'create', 'update', 'delete'].map((a) => `customers:${a}`),
      ...['read', 'create', 'update'].map((a) => `users:${a}`),
      ...['read', 'create', 'update'].map((a) => `groups:${a}`),
      ...['read', 'create', 'update', 'delete'].map((a) => `cards:${a}`),
      ...['read', 'update'].map((a) => `rates:${a}`),
      ...['read', 'create', 'delete'].map((a) => `assignments:${a}`),
      'audit:read',
      'payments:create',
      'ledger:read',
      'usage:read',
      'brand:read',
      'brand:update',
      'statements:read',
      'statements:create',
      'adjustments:create',
    ];
    expect([...DEFAULT_RESELLER_GRANTS].sort()).toEqual(expected.sort());
    expect(DEFAULT_RESELLER_GRANTS).not.toContain('impersonation:start');
    // A switch's grant is the carrier's to hand out, never a template default.
    expect(DEFAULT_RESELLER_GRANTS).not.toContain('calls:authorize');
    // Calls come from the carrier's switch: a reseller reads its traffic, never posts it.
    expect(DEFAULT_RESELLER_GRANTS).not.toContain('usage:create');
    expect(DEFAULT_RESELLER_GRANTS.every(isGrant)).toBe(true);
  });

  it('gives the Default Customer template its own account’s reads and its people, within Default Reseller', () => {
    expect([...DEFAULT_CUSTOMER_GRANTS].sort()).toEqual(
      [
        'users:read',
        'users:create',
        'users:update',
        'groups:read',
        'cards:read',
        'rates:read',
        'ledger:read',
        'usage:read',
        'statements:read',
      ].sort(),
    );
    // Nothing that makes an account, a card or a group; nothing beside its own account.
    for (const grant of DEFAULT_CUSTOMER_GRANTS) {
      expect(grant).not.toMatch(/^(resellers|customers|assignments|audit|brand):|:delete$/);
    }
    for (const absent of ['cards:create', 'groups:create', 'impersonation:start']) {
      expect(DEFAULT_CUSTOMER_GRANTS).not.toContain(absent);
    }
    // A reseller may make it for its customers: no escalation.
    expect(DEFAULT_CUSTOMER_GRANTS.every((g) => DEFAULT_RESELLER_GRANTS.includes(g))).toBe(true);
    expect(GROUP_TEMPLATES['default-customer']).toEqual({
      name: 'Default Customer',
      grants: DEFAULT_CUSTOMER_GRANTS,
    });
  });
});
