import { describe, expect, it } from 'vitest';
import { ALL_GRANTS, DEFAULT_RESELLER_GRANTS } from '@/lib/shared/permissions';
import { uiAbilities, type TUiAbilities } from '@/lib/shared/ui-abilities';

const viewAs = { id: 'v', reason: 'support ticket 42' };

/** Every boolean of the abilities, by its path (`cards.editRates`). */
function flat(abilities: TUiAbilities): Record<string, boolean> {
  return Object.fromEntries(
    Object.entries(abilities).flatMap(([area, flags]) =>
      Object.entries(flags as Record<string, boolean>).map(([name, on]) => [`${area}.${name}`, on]),
    ),
  );
}

describe('uiAbilities', () => {
  it('offers nothing but the overview to a person without grants', () => {
    const abilities = flat(uiAbilities({ grants: [], impersonation: null }));
    expect(Object.entries(abilities).filter(([, on]) => on)).toEqual([]);
  });

  it('offers everything to a person holding every grant', () => {
    const abilities = flat(uiAbilities({ grants: ALL_GRANTS, impersonation: null }));
    expect(Object.entries(abilities).filter(([, on]) => !on)).toEqual([]);
  });

  it('turns on exactly the ability of one grant, and nothing else', () => {
    expect(flat(uiAbilities({ grants: ['rates:update'], impersonation: null }))).toMatchObject({
      'cards.editRates': true,
      'cards.readRates': false,
      'sections.cards': false,
    });
    const rates = flat(uiAbilities({ grants: ['rates:read'] }));
    expect(Object.keys(rates).filter((key) => rates[key])).toEqual([
      'sections.trace',
      'cards.readRates',
    ]);
  });

  it('opens the groups page to a creator who may not read groups', () => {
    const creator = uiAbilities({ grants: ['groups:create'], impersonation: null });
    expect(creator.sections.groups).toBe(true);
    expect(creator.groups).toEqual({ create: true, update: false, delete: false, explain: false });
  });

  it('explains a user only with both users:read and groups:read', () => {
    for (const grants of [['users:read'], ['groups:read']]) {
      const abilities = uiAbilities({ grants, impersonation: null });
      expect([abilities.users.explain, abilities.groups.explain]).toEqual([false, false]);
    }
    const both = uiAbilities({ grants: ['users:read', 'groups:read'], impersonation: null });
    expect([both.users.explain, both.groups.explain]).toEqual([true, true]);
  });

  it('is read-only while viewing as someone: every write off, reads as the viewed user', () => {
    const viewing = uiAbilities({ grants: ALL_GRANTS, impersonation: viewAs });
    const on = Object.entries(flat(viewing))
      .filter(([, value]) => value)
      .map(([key]) => key);
    expect(on).toEqual([
      'sections.resellers',
      'sections.customers',
      'sections.users',
      'sections.groups',
      'sections.cards',
      'sections.trace',
      'sections.audit',
      'dashboard.activity',
      'users.explain',
      'groups.explain',
      'cards.readRates',
      'cards.readAssignments',
      'ledger.read',
      'usage.read',
      'statements.read',
      'brand.read',
    ]);
  });

  it('gives the default reseller its sections and writes but never view-as', () => {
    const reseller = uiAbilities({ grants: DEFAULT_RESELLER_GRANTS, impersonation: null });
    expect(reseller.users).toEqual({
      create: true,
      update: true,
      // DESIGN §1's template: users:read/create/update, no delete.
      delete: false,
      impersonate: false,
      explain: true,
    });
    expect(reseller.groups.delete).toBe(false);
    expect(reseller.cards.unassign).toBe(true);
    expect(reseller.ledger).toEqual({ read: true, pay: true, adjust: true });
  });

  it('re-rates calls only with usage:create, never while viewing as someone', () => {
    expect(uiAbilities({ grants: ['usage:read'], impersonation: null }).usage).toEqual({
      read: true,
      rerate: false,
    });
    expect(
      uiAbilities({ grants: ['usage:read', 'usage:create'], impersonation: null }).usage.rerate,
    ).toBe(true);
    expect(uiAbilities({ grants: ALL_GRANTS, impersonation: viewAs }).usage.rerate).toBe(false);
  });
});
