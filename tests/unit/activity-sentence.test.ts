import { describe, expect, it } from 'vitest';
import {
  resourceLabel,
  activitySentence,
  changedFields,
  fieldValueText,
  listChange,
  valueText,
  type TActivityEntry,
} from '@/lib/shared/activity-sentence';
import { LOGGED_RESOURCES, type TLoggedResource } from '@/lib/shared/schemas/audit';

const admin = { kind: 'user' as const, id: 'u1', name: 'Carrier admin', email: 'a@x.test' };

function entry(over: Partial<TActivityEntry> & { resource: string }): TActivityEntry {
  return {
    op: 'created',
    actor: admin,
    impersonator: null,
    before: null,
    after: null,
    summary: null,
    detail: 'shown',
    ...over,
  };
}

describe('activitySentence', () => {
  it('names the card and the account of an assignment', () => {
    const summary = { cardName: 'Carrier Retail', accountName: 'Nimbus Telecom' };
    expect(activitySentence(entry({ resource: 'assignments', summary }))).toBe(
      'Carrier admin assigned Carrier Retail to Nimbus Telecom',
    );
    expect(
      activitySentence(
        entry({
          resource: 'assignments',
          op: 'deleted',
          summary: { ...summary, reason: 'replaced' },
        }),
      ),
    ).toBe('Carrier admin removed Carrier Retail from Nimbus Telecom (replaced by another card)');
  });

  it('names a ledger movement by kind and amount, the amount as the feed shows money', () => {
    const before = { name: 'Nimbus', balance: '0.000000', version: 1 };
    const movement = (kind: string, amount: string, extra = {}, locale?: string) =>
      activitySentence(
        entry({
          resource: 'customers',
          op: 'updated',
          before,
          after: { ...before, balance: amount, version: 2 },
          summary: { reason: 'ledger', kind, amount, currency: 'EUR', entryId: '1', ...extra },
        }),
        locale,
      );
    expect(movement('payment', '100.500000')).toBe(
      'Carrier admin recorded a payment of €100.50 from Nimbus',
    );
    expect(movement('credit_note', '5.000000')).toBe('Carrier admin credited €5.00 to Nimbus');
    expect(movement('adjustment', '-2.000000')).toBe(
      'Carrier admin adjusted the balance of Nimbus by -€2.00',
    );
    // Usage is a charge (negative in the ledger): said once, every digit it carries kept.
    expect(movement('usage', '-0.012000', { calls: 3 })).toBe(
      'Carrier admin charged Nimbus €0.012 for 3 calls',
    );
    expect(movement('usage', '-1.234567', { calls: 1 })).toBe(
      'Carrier admin charged Nimbus €1.234567 for 1 call',
    );
    expect(movement('usage', '-0.500000')).toBe('Carrier admin charged Nimbus €0.50 for usage');
    // In the viewer's locale, as <Money> shows it.
    expect(movement('usage', '-1234.500000', { calls: 2 }, 'de-DE')).toBe(
      'Carrier admin charged Nimbus 1.234,50\u00a0€ for 2 calls',
    );
  });

  it('names calls stored that charged nothing, and how many were unrated', () => {
    const account = { name: 'Nimbus', balance: '0.000000', version: 3 };
    const calls = (summary: Record<string, unknown>) =>
      activitySentence(
        entry({ resource: 'customers', op: 'updated', before: account, after: account, summary }),
      );
    expect(calls({ reason: 'calls', calls: 3, unrated: 2 })).toBe(
      'Carrier admin recorded 3 calls of Nimbus, charging nothing (2 unrated)',
    );
    expect(calls({ reason: 'calls', calls: 1, unrated: 0 })).toBe(
      'Carrier admin recorded 1 call of Nimbus, charging nothing',
    );
  });

  it('reads account status changes and edits', () => {
    const before = { name: 'Acme Voice', status: 'active', email: 'a@acme.test', version: 1 };
    expect(
      activitySentence(
        entry({
          resource: 'resellers',
          op: 'updated',
          before,
          after: { ...before, status: 'suspended', version: 2 },
          summary: { refetch: ['customers'], reason: 'status_cascade' },
        }),
      ),
    ).toBe('Carrier admin suspended Acme Voice and everything below it');
    expect(
      activitySentence(
        entry({
          resource: 'resellers',
          op: 'updated',
          before,
          after: { ...before, name: 'Acme Voice Ltd', email: 'b@acme.test', version: 2 },
        }),
      ),
    ).toBe('Carrier admin updated Acme Voice Ltd (name, email)');
    expect(
      activitySentence(entry({ resource: 'customers', after: { name: 'Hotel Alpine' } })),
    ).toBe('Carrier admin added customer Hotel Alpine');
  });

  it('names the account to viewers who may not read the person, and who viewed as', () => {
    expect(
      activitySentence(
        entry({
          resource: 'groups',
          actor: { kind: 'account', name: 'Carrier support' },
          after: { name: 'Sales' },
        }),
      ),
    ).toBe('Carrier support created group Sales');
    expect(
      activitySentence(
        entry({
          resource: 'impersonation',
          impersonator: { kind: 'user', id: 'u2', name: 'Sam', email: 's@x.test' },
          after: { targetEmail: 'r@acme.test' },
        }),
      ),
    ).toBe('Carrier admin (viewing as, by Sam) started viewing as r@acme.test');
  });

  it('says where and from which address a person signed in, when the entry has them', () => {
    const signedIn = (after: Record<string, unknown> | null) =>
      activitySentence(entry({ resource: 'sessions', op: 'created', after }));
    expect(signedIn({ host: 'panel.c.test', ip: '203.0.113.9', mfa: true })).toBe(
      'Carrier admin signed in on panel.c.test from 203.0.113.9 with a code',
    );
    expect(signedIn({ host: 'panel.c.test', ip: '203.0.113.9', mfa: false })).toBe(
      'Carrier admin signed in on panel.c.test from 203.0.113.9',
    );
    // Withheld (no users:read), or written before sign-ins were logged with them.
    expect(signedIn(null)).toBe('Carrier admin signed in');
    // A token issued for a password is a sign-in too.
    const issued = (after: Record<string, unknown>) =>
      activitySentence(entry({ resource: 'tokens', op: 'created', after }));
    expect(issued({ name: 'switch', ip: '203.0.113.9', mfa: false })).toBe(
      'Carrier admin issued API token switch from 203.0.113.9',
    );
    expect(issued({ name: 'switch' })).toBe('Carrier admin issued API token switch');
  });

  it('says only what kind of thing changed when the details are withheld', () => {
    expect(activitySentence(entry({ resource: 'cards', op: 'updated', detail: 'withheld' }))).toBe(
      'Carrier admin updated a rate card (details hidden)',
    );
  });

  it('reads card rate changes and margin alerts', () => {
    const card = { name: 'Retail' };
    expect(
      activitySentence(
        entry({
          resource: 'cards',
          op: 'updated',
          after: card,
          summary: { event: 'rates_changed', cause: 'import', rows: 120, losing: 2 },
        }),
      ),
    ).toBe('Carrier admin set the rates of rate card Retail: 120 rows, 2 losing money');
    expect(
      activitySentence(
        entry({
          resource: 'cards',
          op: 'updated',
          after: card,
          summary: { event: 'margin_alert', count: 1, prefixes: ['44'] },
        }),
      ),
    ).toBe('1 row of rate card Retail started losing money');
    expect(
      activitySentence(entry({ resource: 'cards', after: { name: 'Resale', parentId: 'c1' } })),
    ).toBe('Carrier admin derived rate card Resale');
  });

  it('reads user changes', () => {
    const before = { email: 'bob@acme.test', status: 'active' };
    expect(
      activitySentence(
        entry({
          resource: 'users',
          op: 'updated',
          before,
          after: { ...before, status: 'disabled' },
        }),
      ),
    ).toBe('Carrier admin disabled user bob@acme.test');
    expect(
      activitySentence(
        entry({
          resource: 'users',
          op: 'updated',
          before,
          after: before,
          summary: { mfa: 'reset' },
        }),
      ),
    ).toBe('Carrier admin reset MFA of user bob@acme.test');
  });

  it('names a brand by its display name and what an update touched', () => {
    const before = { accountId: 'a1', displayName: 'Nimbus', primaryColor: '#1d4ed8', version: 1 };
    const after = { ...before, primaryColor: '#0369a1', version: 2 };
    expect(activitySentence(entry({ resource: 'brands', after }))).toBe(
      'Carrier admin set the brand Nimbus',
    );
    expect(activitySentence(entry({ resource: 'brands', op: 'updated', before, after }))).toBe(
      'Carrier admin updated the brand Nimbus (primaryColor)',
    );
    expect(activitySentence(entry({ resource: 'brands', op: 'deleted', before }))).toBe(
      'Carrier admin removed the brand Nimbus',
    );
  });

  it('names a statement by its number, month and account', () => {
    const after = { id: 's1', number: 2, period: '2026-12', accountName: 'Hotel Alpine' };
    expect(activitySentence(entry({ resource: 'statements', after }))).toBe(
      'Carrier admin issued statement no. 2 for 2026-12 to Hotel Alpine',
    );
  });

  // Every logged resource × operation has a sentence that starts with who and is not a
  // bare type name (the writer table is typed Record<TLoggedResource, …>: a new resource
  // does not compile without one).
  const ops = ['created', 'updated', 'deleted'] as const;
  it.each(LOGGED_RESOURCES.flatMap((resource) => ops.map((op) => [resource, op] as const)))(
    '%s %s reads as a sentence',
    (resource: TLoggedResource, op) => {
      const sentence = activitySentence(
        entry({ resource, op, before: { name: 'Thing' }, after: { name: 'Thing' } }),
      );
      expect(sentence.startsWith('Carrier admin ') || /losing money$/.test(sentence)).toBe(true);
      expect(sentence).not.toContain(`${resource} ${op}`);
      expect(sentence).not.toContain('undefined');
    },
  );
});

describe('changedFields', () => {
  it('lists only the fields whose value differs, never the bookkeeping', () => {
    expect(
      changedFields(
        { name: 'A', status: 'active', version: 1, updatedAt: 't1', creditLimit: '5' },
        { name: 'B', status: 'active', version: 2, updatedAt: 't2', creditLimit: null },
      ),
    ).toEqual([
      { field: 'name', before: 'A', after: 'B' },
      { field: 'creditLimit', before: '5', after: null },
    ]);
    expect(changedFields(null, { name: 'A' })).toEqual([]);
  });
});

describe('listChange', () => {
  it('says which items a list gained and lost, in their order', () => {
    expect(
      listChange({
        field: 'grants',
        before: ['cards:read', 'users:read', 'audit:read'],
        after: ['users:read', 'impersonation:start', 'audit:read', 'ledger:read'],
      }),
    ).toEqual({ added: ['impersonation:start', 'ledger:read'], removed: ['cards:read'] });
    // A reorder moves nothing.
    expect(listChange({ field: 'hostnames', before: ['a', 'b'], after: ['b', 'a'] })).toEqual({
      added: [],
      removed: [],
    });
  });

  it('is null for anything but two lists of text', () => {
    expect(listChange({ field: 'name', before: 'A', after: 'B' })).toBeNull();
    expect(listChange({ field: 'grants', before: null, after: ['a'] })).toBeNull();
    expect(listChange({ field: 'x', before: [1], after: [2] })).toBeNull();
  });
});

describe('fieldValueText', () => {
  it("shows an account's money in its currency, and other values as they are", () => {
    const body = {
      before: { balance: '-2.179400', creditLimit: null, name: 'A', currency: 'EUR' },
      after: { balance: '-7.000000', creditLimit: '500.000000', name: 'B', currency: 'EUR' },
    };
    const [balance, limit, name] = changedFields(body.before, body.after);
    const text = (change: typeof balance, side: 'before' | 'after') =>
      fieldValueText(change!, side, body, 'en-US').replace(/[\u00a0\u202f]/g, ' ');
    expect([text(balance, 'before'), text(balance, 'after')]).toEqual(['-€2.1794', '-€7.00']);
    expect([text(limit, 'before'), text(limit, 'after')]).toEqual(['(none)', '€500.00']);
    expect([text(name, 'before'), text(name, 'after')]).toEqual(['A', 'B']);
    // Text that reads as a number is not money unless the field is: a name stays whole.
    expect(valueText('name', '007', 'EUR')).toBe('007');
    expect(valueText('creditLimit', '500', 'EUR', 'en-US')).toBe(
      valueText('creditLimit', '500.000000', 'EUR', 'en-US'),
    );
    // Without a currency in the body, a money field's string as it is.
    expect(
      fieldValueText({ field: 'balance', before: '1.5', after: '2' }, 'after', {
        before: {},
        after: {},
      }),
    ).toBe('2');
  });
});

describe('resourceLabel', () => {
  it('names a logged resource as a person does, and passes an unknown one through', () => {
    expect(resourceLabel('assignments')).toBe('Card assignment');
    expect(resourceLabel('impersonation')).toBe('View-as');
    expect(resourceLabel('ledger_entries')).toBe('Ledger_entries');
  });
});
