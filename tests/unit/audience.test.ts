import { describe, expect, it } from 'vitest';
import {
  auditRoom,
  auditViewOf,
  audienceOf,
  withCallsOf,
  envelopeFor,
  inboxRoom,
  memberRoom,
  ledgerBlindRoom,
  ownAccountRoom,
  belowRoom,
  roomFor,
  roomsOf,
  type TLogEntry,
} from '@/lib/server/authz/audience';
import type { TActor } from '@/lib/server/authz/actor';
import { withinKey } from '@/lib/shared/live/within';
import { projectActor, UPSTREAM_ACTOR } from '@/lib/server/authz/actor-name';
import { ASSIGNEE_VIEW_KEYS } from '../fixtures/cards';

const entry = (change: Partial<TLogEntry>): TLogEntry => ({
  seq: 7,
  carrierId: 'c',
  at: new Date('2026-11-28T10:00:00Z'),
  resource: 'customers',
  entityId: 'k',
  op: 'updated',
  before: null,
  after: { id: 'k', name: 'Hotel' },
  scopeBefore: 'c/r1/',
  scopeAfter: 'c/r1/',
  actor: {
    userId: 'u',
    name: 'Ann',
    email: 'ann@c.test',
    userPath: 'c/',
    accountName: 'Carrier',
    accountPath: 'c/',
  },
  ...change,
});

/**
 * An entry's deliveries but the audit's bare signal to those nothing else tells (`audit:`
 * rooms), which every entry has: tested on its own below.
 */
const deliveriesOf = (e: TLogEntry) =>
  audienceOf(e).filter((d) => !d.rooms.some((room) => room.startsWith('audit:')));

/** A viewer at an account (its id and path) holding `grants`. */
const actorAt = (id: string, path: string, grants: string[]) =>
  ({
    userId: `u-${id}`,
    group: { id: 'g' },
    account: { id, path },
    grants,
  }) as unknown as TActor;

/** Which envelope type each room receives. */
const byRoom = (e: TLogEntry) =>
  Object.fromEntries(
    deliveriesOf(e).map((d) => [
      d.rooms[0],
      [d.envelope.type, d.envelope.data, d.envelope.actor.kind],
    ]),
  );

describe('audience of a change', () => {
  it('reaches every account on the scope path, naming the actor only at or above it', () => {
    expect(byRoom(entry({}))).toEqual({
      [roomFor('c', 'customers', true)]: ['customers.updated', { id: 'k', name: 'Hotel' }, 'user'],
      [roomFor('c', 'customers', false)]: [
        'customers.updated',
        { id: 'k', name: 'Hotel' },
        'account',
      ],
      [roomFor('r1', 'customers', true)]: [
        'customers.updated',
        { id: 'k', name: 'Hotel' },
        'account',
      ],
      [roomFor('r1', 'customers', false)]: [
        'customers.updated',
        { id: 'k', name: 'Hotel' },
        'account',
      ],
      // The account's own people: a signal, never the parent's view of it.
      [ownAccountRoom('k')]: ['customers.refetch', { id: 'k' }, 'account'],
    });
  });

  it("tells an account's own people that it changed, with nothing of the change", () => {
    const renamed = entry({ resource: 'resellers', entityId: 'r2', scopeBefore: 'c/r1/' });
    const own = deliveriesOf(renamed).find((d) => d.rooms.includes(ownAccountRoom('r2')));
    expect(own?.rooms).toEqual([ownAccountRoom('r2')]);
    expect(own?.envelope).toMatchObject({
      type: 'resellers.refetch',
      id: 'r2',
      data: { id: 'r2' },
      summary: { refetch: [], reason: 'own_account' },
    });
    // Created or deleted: not theirs (a new account has no people; a deleted one none left).
    for (const op of ['created', 'deleted'] as const) {
      const rooms = deliveriesOf({ ...renamed, op }).flatMap((d) => d.rooms);
      expect(rooms).not.toContain(ownAccountRoom('r2'));
    }
  });

  it('signals a view-as to the people readers on its target account path, and no one else', () => {
    const started = entry({
      resource: 'impersonation',
      entityId: 'i',
      op: 'created',
      after: { targetUserId: 'u2', targetEmail: 'bo@r1.test', reason: 'ticket 12' },
      scopeBefore: null,
      scopeAfter: 'c/r1/',
    });
    const deliveries = deliveriesOf(started);
    expect(deliveries.map((delivery) => delivery.rooms)).toEqual([
      [roomFor('c', 'users', true)],
      [roomFor('r1', 'users', true)],
    ]);
    for (const delivery of deliveries) {
      expect(delivery.envelope).toMatchObject({
        type: 'users.refetch',
        id: 'r1',
        data: { id: 'r1' },
        summary: { refetch: [], reason: 'view_as' },
      });
      expect(JSON.stringify(delivery.envelope)).not.toContain('ticket 12');
    }
  });

  it('signals a sign-in to the people readers on its account path, and no one else', () => {
    // Bo of r1 signs in (the entry's actor is the person signing in).
    const bo = {
      userId: 'bo',
      name: 'Bo',
      email: 'bo@r1.test',
      userPath: 'c/r1/',
      accountName: 'R1',
      accountPath: 'c/r1/',
    };
    const signedIn = entry({
      resource: 'sessions',
      entityId: 's1',
      op: 'created',
      after: { host: 'panel.c.test', ip: '203.0.113.9', mfa: false },
      scopeBefore: null,
      scopeAfter: 'c/r1/',
      actor: bo,
    });
    const deliveries = deliveriesOf(signedIn);
    expect(deliveries.map((delivery) => [delivery.rooms, delivery.except])).toEqual([
      [[roomFor('c', 'users', true)], undefined],
      [[roomFor('r1', 'users', true)], undefined],
    ]);
    for (const delivery of deliveries) {
      expect(delivery.envelope).toMatchObject({
        type: 'users.refetch',
        id: 'r1',
        data: { id: 'r1' },
        summary: { refetch: ['users'], reason: 'sign_in' },
      });
      expect(delivery.envelope.actor.kind).toBe('account');
      // Where and from which address stay in the audit.
      expect(JSON.stringify(delivery.envelope)).not.toMatch(/203\.0\.113\.9|panel\.c\.test/);
    }
    // A token issued for the password is a sign-in too; a session's end moves nothing shown.
    const issued = { ...signedIn, resource: 'tokens', entityId: 't1' };
    expect(deliveriesOf(issued).map((delivery) => delivery.rooms)).toEqual(
      deliveries.map((delivery) => delivery.rooms),
    );
    expect(
      deliveriesOf({
        ...signedIn,
        op: 'deleted',
        after: null,
        scopeBefore: 'c/r1/',
        scopeAfter: null,
      }),
    ).toEqual([]);
    expect(
      deliveriesOf({
        ...issued,
        op: 'deleted',
        after: null,
        scopeBefore: 'c/r1/',
        scopeAfter: null,
      }),
    ).toEqual([]);
  });

  it('names an acting account only to its own side, the side below it and its children', () => {
    // The carrier's switch moves customer k's balance (k under r1 under c): r1's people
    // know their carrier; k's own are told of an upstream provider, never its name.
    const moved = entry({
      actor: {
        userId: 'switch',
        name: 'Switch',
        email: 'switch@c.test',
        userPath: 'c/',
        accountName: 'Carrier',
        accountPath: 'c/',
      },
      summary: { reason: 'ledger' },
    });
    const actorIn = (room: string) =>
      deliveriesOf(moved).find((delivery) => delivery.rooms.includes(room))?.envelope.actor;
    expect(actorIn(roomFor('c', 'customers', true))).toMatchObject({ kind: 'user' });
    expect(actorIn(roomFor('r1', 'customers', false))).toEqual({
      kind: 'account',
      name: 'Carrier',
    });
    expect(actorIn(ownAccountRoom('k'))).toEqual({ kind: 'account', name: UPSTREAM_ACTOR });
    // An account that acted below and has since moved elsewhere is still named (only an
    // ancestor of the viewer's parent is upstream, and ancestors never move)…
    expect(projectActor({ ...moved.actor, accountPath: 'c/r2/k/' }, false, 'c/r1/')).toEqual({
      kind: 'account',
      name: 'Carrier',
    });
    // …and a notice or a brand's own room names it as its account's people know it.
    const notice = entry({
      resource: 'notifications',
      op: 'created',
      scopeAfter: 'c/r1/',
      audience: { recipient: 'u1' },
      actor: moved.actor,
    });
    expect(deliveriesOf(notice)[0]?.envelope.actor).toEqual({ kind: 'account', name: 'Carrier' });
    // An acting account whose place is unknown (gone) is not named.
    expect(projectActor({ ...moved.actor, accountPath: null }, false, 'c/r1/')).toEqual({
      kind: 'account',
      name: UPSTREAM_ACTOR,
    });
    expect(projectActor({ ...moved.actor, accountName: null }, false, 'c/r1/k/')).toEqual({
      kind: 'account',
      name: 'System',
    });
  });

  it('sends a removal only to the old audience and the data only to the new one', () => {
    const moved = byRoom(entry({ scopeBefore: 'c/r1/', scopeAfter: 'c/r2/' }));
    expect(moved[roomFor('c', 'customers', true)]![0]).toBe('customers.updated');
    expect(moved[roomFor('r1', 'customers', true)]).toEqual([
      'customers.removed',
      { id: 'k' },
      'account',
    ]);
    expect(moved[roomFor('r2', 'customers', false)]).toEqual([
      'customers.added',
      { id: 'k', name: 'Hotel' },
      'account',
    ]);
  });

  it('tells a deletion with the id only, to those who saw it', () => {
    const gone = deliveriesOf(entry({ op: 'deleted', scopeAfter: null, after: null }));
    expect(gone.every((d) => d.envelope.type === 'customers.deleted')).toBe(true);
    expect(gone.every((d) => JSON.stringify(d.envelope.data) === '{"id":"k"}')).toBe(true);
  });

  it('does not fan out resources without a live read grant (tokens, impersonation)', () => {
    expect(deliveriesOf(entry({ resource: 'tokens' }))).toEqual([]);
  });

  it('puts a socket in the rooms its grants open, at its own account', () => {
    const actor = {
      userId: 'u1',
      group: { id: 'g' },
      account: { id: 'r1', path: 'c/r1/' },
      grants: ['customers:read', 'groups:read'],
    } as unknown as TActor;
    expect(roomsOf(actor)).toEqual([
      roomFor('r1', 'customers', false),
      roomFor('r1', 'groups', false),
      // No ledger:read: a ledger movement of a customer reaches it without the entry.
      ledgerBlindRoom('r1', 'customers', false),
      ownAccountRoom('r1'),
      inboxRoom('u1'),
      // A rename of its group is news to it (who it is shown to be).
      memberRoom('g'),
      // What the carrier above does to everything below it reaches r1's people.
      belowRoom('c'),
    ]);
  });

  it('tells an account reader without ledger:read that the balance moved, not the entry', () => {
    const paid = entry({
      before: { id: 'k', name: 'Hotel', balance: '0.000000' },
      after: { id: 'k', name: 'Hotel', balance: '-2.500000' },
      summary: {
        reason: 'ledger',
        kind: 'usage',
        amount: '-2.500000',
        currency: 'EUR',
        entryId: 'e1',
        calls: 3,
      },
    });
    const reader = (grants: string[]) =>
      ({
        userId: 'u1',
        group: { id: 'g' },
        account: { id: 'r1', path: 'c/r1/' },
        grants,
      }) as unknown as TActor;
    const full = envelopeFor(reader(['customers:read', 'ledger:read']), paid);
    const blind = envelopeFor(reader(['customers:read']), paid);
    expect(full?.summary).toEqual(paid.summary);
    expect(roomsOf(reader(['customers:read', 'ledger:read']))).not.toContain(
      ledgerBlindRoom('r1', 'customers', false),
    );
    // The balance is on the account for both; the movement's kind, amount, entry and
    // call count only for the ledger reader: to the other, that calls moved it.
    expect([blind?.type, blind?.data]).toEqual([full?.type, full?.data]);
    expect(blind?.summary).toEqual({ reason: 'balance', usage: true });
    // Each socket gets one of the two, never both.
    for (const grants of [['customers:read', 'ledger:read'], ['customers:read']]) {
      const rooms = new Set(roomsOf(reader(grants)));
      const reached = deliveriesOf(paid).filter(
        (d) =>
          d.rooms.some((room) => rooms.has(room)) && !d.except?.some((room) => rooms.has(room)),
      );
      expect([grants, reached.length]).toEqual([grants, 1]);
    }
    // Calls stored that moved no balance: their counts are the ledger reader's alone too.
    const quiet = entry({
      before: { id: 'k', name: 'Hotel', balance: '0.000000' },
      after: { id: 'k', name: 'Hotel', balance: '0.000000' },
      summary: { reason: 'calls', calls: 5, unrated: 2 },
    });
    expect(envelopeFor(reader(['customers:read', 'ledger:read']), quiet)?.summary).toEqual(
      quiet.summary,
    );
    expect(envelopeFor(reader(['customers:read']), quiet)?.summary).toEqual({
      reason: 'balance',
      usage: true,
    });
    // Whoever is told of them is told the accounts from their own down to the customer's
    // parent (views over any of them follow) as digests, never one above their own, never
    // an id; nothing else is.
    const below = entry({ ...quiet, scopeBefore: 'c/r1/r2/', scopeAfter: 'c/r1/r2/' });
    const keys = (...ids: string[]) => ids.map(withinKey);
    const carrier = envelopeFor(actorAt('c', 'c/', ['customers:read']), below);
    expect(carrier?.within).toEqual(keys('c', 'r1', 'r2'));
    expect(carrier?.within).not.toContain('r1');
    expect(
      envelopeFor(actorAt('r1', 'c/r1/', ['customers:read', 'ledger:read']), below)?.within,
    ).toEqual(keys('r1', 'r2'));
    expect(envelopeFor(actorAt('r2', 'c/r1/r2/', ['customers:read']), below)?.within).toEqual(
      keys('r2'),
    );
    // Rated calls that moved the balance too: a carrier reader of customers only reads
    // no reseller's entry, so the customer's says the calls are below its own account.
    expect(envelopeFor(actorAt('r1', 'c/r1/', ['customers:read']), paid)?.within).toEqual(
      keys('r1'),
    );
    const ratedBelow = entry({ ...paid, scopeBefore: 'c/r1/', scopeAfter: 'c/r1/' });
    expect(envelopeFor(actorAt('c', 'c/', ['customers:read']), ratedBelow)?.within).toEqual(
      keys('c', 'r1'),
    );
    // Nothing but calls carries it.
    const renamed = entry({ ...paid, summary: { reason: 'renamed' } });
    expect(envelopeFor(actorAt('r1', 'c/r1/', ['customers:read']), renamed)).not.toHaveProperty(
      'within',
    );
    // A reseller blocked for credit by it: the lists below to refetch, still no entry.
    const blocked = entry({
      ...paid,
      resource: 'resellers',
      entityId: 'r2',
      scopeBefore: 'c/',
      scopeAfter: 'c/',
      summary: { ...paid.summary, refetch: ['resellers', 'customers'] },
    });
    const carrierSide = {
      userId: 'u2',
      group: { id: 'g' },
      account: { id: 'c', path: 'c/' },
      grants: ['resellers:read'],
    } as unknown as TActor;
    expect(envelopeFor(carrierSide, blocked)?.summary).toEqual({
      reason: 'balance',
      usage: true,
      refetch: ['resellers', 'customers'],
    });
  });

  it('tells the accounts below a reseller whose credit block cascades, barely', () => {
    const blocked = entry({
      resource: 'resellers',
      entityId: 'r1',
      op: 'updated',
      before: { id: 'r1', name: 'R1', creditBlock: null },
      after: { id: 'r1', name: 'R1', creditBlock: 'own' },
      scopeBefore: 'c/',
      scopeAfter: 'c/',
      summary: { refetch: ['resellers', 'customers'], reason: 'credit_cascade' },
    });
    const below = deliveriesOf(blocked).filter((d) => d.rooms.includes(belowRoom('r1')));
    expect(below.map((d) => [d.envelope.type, d.envelope.data, d.envelope.summary])).toEqual([
      ['resellers.refetch', { id: 'r1' }, { refetch: ['resellers', 'customers'], reason: 'above' }],
    ]);
    // A rename changes nothing below the reseller's own lists: no signal there.
    const renamed = entry({
      ...blocked,
      summary: { refetch: ['users', 'assignments'], reason: 'renamed' },
    });
    expect(deliveriesOf(renamed).some((d) => d.rooms.includes(belowRoom('r1')))).toBe(false);
  });

  it("sends a notice to its recipient's inbox alone, and one naming nobody to no one", () => {
    const notice = entry({
      resource: 'notifications',
      entityId: 'n1',
      op: 'created',
      after: { id: 'n1', title: 'Card Retail assigned to your account' },
      scopeBefore: null,
      audience: { recipient: 'u1' },
    });
    expect(deliveriesOf(notice).map((d) => [d.rooms, d.envelope.type, d.envelope.data])).toEqual([
      [[inboxRoom('u1')], 'notifications.created', notice.after],
    ]);
    // Not the same account's other people, whatever their grants.
    const colleague = {
      userId: 'u2',
      group: { id: 'g' },
      account: { id: 'r1', path: 'c/r1/' },
      grants: ['cards:read', 'users:read', 'audit:read'],
    } as unknown as TActor;
    expect(envelopeFor(colleague, notice)).toBeNull();
    expect(auditViewOf(colleague, notice).detail).toBe('withheld');
    expect(deliveriesOf(entry({ resource: 'notifications', audience: null }))).toEqual([]);
  });

  describe("use-only groups (an ancestor's group, seen by whoever below may assign it)", () => {
    const viewer = (grants: string[]) =>
      ({
        group: { id: 'g' },
        account: { id: 'r2', path: 'c/r1/r2/' },
        grants,
      }) as unknown as TActor;
    const assigner = viewer(['users:create', 'customers:read', 'resellers:read']);
    const narrow = viewer(['users:create', 'customers:read']);
    const reader = viewer(['customers:read', 'resellers:read']); // may not assign
    const group = (grants: string[], version: number) => ({
      id: 'g',
      name: 'Sales',
      accountId: 'r1',
      grants,
      template: null,
      useOnly: false,
      version,
    });
    const change = (before: string[] | null, after: string[] | null) =>
      entry({
        resource: 'groups',
        entityId: 'g',
        op: before && after ? 'updated' : before ? 'deleted' : 'created',
        before: before && group(before, 1),
        after: after && group(after, 2),
        scopeBefore: before && 'c/r1/',
        scopeAfter: after && 'c/r1/',
      });
    const seen = (actor: TActor, e: TLogEntry) => {
      const got = envelopeFor(actor, e);
      return got && [got.type, got.data];
    };
    const view = (grants: string[]) => ({
      id: 'g',
      name: 'Sales',
      grants,
      useOnly: true,
      version: 2,
    });

    it('creates, updates and deletes with the use-only projection for those holding every grant', () => {
      const grants = ['customers:read', 'resellers:read'];
      expect(seen(assigner, change(null, grants))).toEqual(['groups.created', view(grants)]);
      expect(seen(assigner, change(grants, grants))).toEqual(['groups.updated', view(grants)]);
      expect(seen(assigner, change(grants, null))).toEqual(['groups.deleted', { id: 'g' }]);
      expect(seen(narrow, change(null, grants))).toBeNull();
      expect(seen(reader, change(null, grants))).toBeNull();
    });

    it('adds and removes as grant changes make the group usable or not', () => {
      expect(
        seen(narrow, change(['customers:read', 'resellers:read'], ['customers:read'])),
      ).toEqual(['groups.added', view(['customers:read'])]);
      expect(
        seen(narrow, change(['customers:read'], ['customers:read', 'resellers:read'])),
      ).toEqual(['groups.removed', { id: 'g' }]);
      expect(seen(narrow, change(['resellers:read'], ['resellers:read', 'users:read']))).toBeNull();
      expect(
        seen(assigner, change(['customers:read'], ['customers:read', 'resellers:read'])),
      ).toEqual(['groups.updated', view(['customers:read', 'resellers:read'])]);
    });

    it("never reaches the owner's own account this way (it owns the group)", () => {
      const owner = {
        group: { id: 'g' },
        account: { id: 'r1', path: 'c/r1/' },
        grants: ['users:create'],
      };
      expect(seen(owner as unknown as TActor, change(null, []))).toBeNull();
    });
  });
});

/** A card as its owner sees it (parent, markup): the fixture of the card tests below. */
const OWNER_CARD = {
  id: 'card',
  version: 3,
  createdAt: '2026-11-28T10:00:00.000Z',
  updatedAt: '2026-11-28T10:00:00.000Z',
  relation: 'owner',
  name: 'Retail',
  currency: 'EUR',
  kind: 'customer',
  decimals: 4,
  rounding: 'up',
  ownerId: 'c',
  parentId: 'upstream',
  markup: { percent: '20', fixed: null, overrides: [] },
  rateCount: 12,
  losingRates: 1,
};

describe('a later change standing for calls it replaced', () => {
  it('tells of them in each of the account’s envelopes, by the calls’ own path', () => {
    const scoped = { scopeBefore: 'c/r1/r2/', scopeAfter: 'c/r1/r2/' };
    const payment = entry({
      ...scoped,
      before: { id: 'k', balance: '0.000000' },
      after: { id: 'k', balance: '5.000000' },
      summary: { reason: 'ledger', kind: 'payment', amount: '5', currency: 'EUR', entryId: 'p' },
    });
    const calls = entry({ ...scoped, summary: { reason: 'calls', calls: 1, unrated: 1 } });
    const rated = entry({
      ...scoped,
      summary: { reason: 'ledger', kind: 'usage', amount: '-1', currency: 'EUR', entryId: 'u' },
    });
    const told = withCallsOf(audienceOf(payment), calls);
    // Every reader of the customer, at each account on its path, ledger-blind or not.
    const accounts = told.filter((d) => d.envelope.type === 'customers.updated');
    expect(accounts.length).toBeGreaterThan(0);
    for (const delivery of accounts) {
      expect(delivery.envelope.within).toEqual(
        audienceOf(calls).find((d) => d.rooms[0] === delivery.rooms[0])!.envelope.within,
      );
      expect(delivery.envelope.summary).toEqual(
        audienceOf(payment).find((d) => d.rooms[0] === delivery.rooms[0])!.envelope.summary,
      );
    }
    expect(
      accounts.find((d) => d.rooms[0] === roomFor('r1', 'customers', true))?.envelope.within,
    ).toEqual(['r1', 'r2'].map(withinKey));
    // Calls that moved its balance: the accounts between too, as their own entry tells.
    for (const delivery of withCallsOf(audienceOf(payment), rated)) {
      if (delivery.envelope.type === 'customers.updated') {
        expect(delivery.envelope.within).toEqual(
          audienceOf(rated).find((d) => d.rooms[0] === delivery.rooms[0])!.envelope.within,
        );
      } else expect(delivery.envelope).not.toHaveProperty('within');
    }
    // The entry's own deliveries are not changed (they are shared: audienceOf keeps them).
    expect(audienceOf(payment).some((d) => d.envelope.within)).toBe(false);
  });
});

describe('the audit of those nothing else tells', () => {
  const viewer = actorAt;

  it('is a bare signal naming their own account, to audit readers on the entry’s paths', () => {
    const renamed = entry({ before: { id: 'k', name: 'Inn' }, scopeBefore: 'c/r1/' });
    const auditor = viewer('r1', 'c/r1/', ['audit:read']);
    expect(roomsOf(auditor)).toContain(auditRoom('r1'));
    expect(envelopeFor(auditor, renamed)).toEqual({
      seq: 7,
      type: 'audit.refetch',
      id: 'r1',
      data: { id: 'r1' },
      at: '2026-11-28T10:00:00.000Z',
      actor: { kind: 'account', name: 'Carrier' },
    });
    // One who reads the customer hears of it as a customer, not twice.
    const reader = viewer('r1', 'c/r1/', ['audit:read', 'customers:read']);
    expect(envelopeFor(reader, renamed)?.type).toBe('customers.updated');
    // A user's entry to one who reads customers and the audit but not users: the audit.
    const user = entry({ resource: 'users', entityId: 'u9', after: { id: 'u9' } });
    expect(envelopeFor(reader, user)?.type).toBe('audit.refetch');
    // A token or a session (no live resource of their own) reaches the audit too.
    expect(envelopeFor(auditor, entry({ resource: 'tokens' }))?.type).toBe('audit.refetch');
    // A customer moved out of r1: both sides' auditors.
    const moved = entry({ scopeBefore: 'c/r1/', scopeAfter: 'c/r2/' });
    expect(envelopeFor(viewer('r2', 'c/r2/', ['audit:read']), moved)?.id).toBe('r2');
    expect(envelopeFor(auditor, moved)?.id).toBe('r1');
  });

  it('reaches no one outside the entry’s paths, no one without audit:read, nothing of notices', () => {
    expect(envelopeFor(viewer('r2', 'c/r2/', ['audit:read']), entry({}))).toBeNull();
    expect(envelopeFor(viewer('r1', 'c/r1/', ['resellers:read']), entry({}))).toBeNull();
    expect(roomsOf(viewer('r1', 'c/r1/', ['resellers:read']))).not.toContain(auditRoom('r1'));
    const notice = entry({ resource: 'notifications', scopeBefore: null });
    expect(audienceOf(notice).some((d) => d.rooms.some((r) => r.startsWith('audit:')))).toBe(false);
    // Every audit delivery excludes every room the entry's other deliveries reach.
    const deliveries = audienceOf(entry({}));
    const others = deliveries.filter((d) => !d.rooms[0]!.startsWith('audit:'));
    for (const audit of deliveries.filter((d) => d.rooms[0]!.startsWith('audit:'))) {
      expect(audit.except).toEqual(expect.arrayContaining(others.flatMap((d) => d.rooms)));
    }
  });
});

describe('audience of a rate card', () => {
  const ownerDto = OWNER_CARD;
  const cardEntry = (change: Partial<TLogEntry>) =>
    entry({
      resource: 'cards',
      entityId: 'card',
      after: ownerDto,
      before: ownerDto,
      scopeBefore: 'c/',
      scopeAfter: 'c/',
      summary: {
        event: 'rates_changed',
        cause: 'put',
        rows: 12,
        losing: 1,
      },
      audience: { holders: ['r1', 'k9'] },
      ...change,
    });

  it('gives the owner side everything and each holder only its assignee view', () => {
    const deliveries = deliveriesOf(cardEntry({}));
    const owner = deliveries.find((d) => d.rooms.includes(roomFor('c', 'cards', true)))!;
    expect(owner.envelope).toMatchObject({ type: 'cards.rates_changed', data: ownerDto });
    expect(owner.envelope.summary).toEqual({
      event: 'rates_changed',
      cause: 'put',
      rows: 12,
      losing: 1,
    });
    const holder = deliveries.find((d) => d.rooms.includes(roomFor('r1', 'cards', true)))!;
    expect(holder.rooms).toEqual([roomFor('r1', 'cards', true), roomFor('r1', 'cards', false)]);
    expect(holder.envelope.type).toBe('cards.rates_changed');
    expect(Object.keys(holder.envelope.data).sort()).toEqual([...ASSIGNEE_VIEW_KEYS].sort());
    expect(holder.envelope.data).toMatchObject({ relation: 'assigned', kind: 'provider' });
    expect(holder.envelope.summary).toEqual({ event: 'rates_changed', rows: 12 });
    expect(holder.envelope.actor).toEqual({ kind: 'account', name: 'Carrier' });
    // The holders themselves never travel: another holder's id is in no envelope.
    expect(JSON.stringify(deliveries.map((d) => d.envelope))).not.toContain('k9');
    for (const delivery of deliveries)
      expect(delivery.envelope.summary).not.toHaveProperty('audience');
  });

  it('tells a holder a scheduled revision: what changes and when, never the margin', () => {
    const counts = { added: 1, removed: 0, increased: 214, decreased: 3, changed: 0, unchanged: 9 };
    const deliveries = deliveriesOf(
      cardEntry({
        summary: {
          event: 'revision_scheduled',
          cause: 'import',
          number: 7,
          liveAt: '2027-01-04T00:00:00.000Z',
          rows: 12,
          losing: 2,
          counts,
        },
      }),
    );
    const owner = deliveries.find((d) => d.rooms.includes(roomFor('c', 'cards', true)))!;
    expect(owner.envelope.type).toBe('cards.revision_scheduled');
    expect(owner.envelope.summary).toMatchObject({ number: 7, losing: 2, counts });
    const holder = deliveries.find((d) => d.rooms.includes(roomFor('r1', 'cards', true)))!;
    expect(holder.envelope.type).toBe('cards.revision_scheduled');
    expect(holder.envelope.summary).toEqual({
      event: 'revision_scheduled',
      number: 7,
      liveAt: '2027-01-04T00:00:00.000Z',
      rows: 12,
      counts,
    });
  });

  it('sends a margin alert to the owner side only', () => {
    const deliveries = deliveriesOf(
      cardEntry({
        summary: {
          event: 'margin_alert',
          count: 1,
          prefixes: ['441'],
        },
        audience: { holders: ['r1'] },
      }),
    );
    expect(deliveries.map((d) => d.envelope.type)).toEqual([
      'cards.margin_alert',
      'cards.margin_alert',
    ]);
    expect(deliveries.flatMap((d) => d.rooms)).toEqual([
      roomFor('c', 'cards', true),
      roomFor('c', 'cards', false),
    ]);
  });

  it('turns an assignment into the card entering or leaving the holder’s provider cards', () => {
    const assignment = {
      id: 'a1',
      version: 1,
      cardId: 'card',
      accountId: 'r1',
      accountKind: 'reseller',
    };
    const assigned = { ...ownerDto, relation: 'assigned', kind: 'provider' };
    const created = deliveriesOf(
      entry({
        resource: 'assignments',
        entityId: 'a1',
        op: 'created',
        before: null,
        after: assignment,
        scopeBefore: null,
        scopeAfter: 'c/',
        audience: { holder: 'r1', card: assigned as never },
      }),
    );
    expect(created.map((d) => [d.rooms[0], d.envelope.type, d.envelope.id])).toEqual([
      [roomFor('c', 'assignments', true), 'assignments.created', 'a1'],
      [roomFor('c', 'assignments', false), 'assignments.created', 'a1'],
      [roomFor('r1', 'cards', true), 'cards.added', 'card'],
    ]);
    const added = created.at(-1)!.envelope.data;
    expect(added).not.toHaveProperty('parentId');
    expect(added).not.toHaveProperty('markup');
    expect(added).not.toHaveProperty('losingRates');
    const removed = deliveriesOf(
      entry({
        resource: 'assignments',
        entityId: 'a1',
        op: 'deleted',
        before: assignment,
        after: null,
        scopeBefore: 'c/',
        scopeAfter: null,
        audience: { holder: 'r1', card: assigned as never },
      }),
    ).at(-1)!;
    expect(removed.envelope).toMatchObject({
      type: 'cards.removed',
      id: 'card',
      data: { id: 'card' },
    });
  });

  it('tells a removal nothing but the id', () => {
    const moved = deliveriesOf(
      entry({ scopeBefore: 'c/r1/', scopeAfter: 'c/r2/', summary: { reason: 'transfer' } }),
    );
    const removal = moved.find((d) => d.rooms[0] === roomFor('r1', 'customers', true))!;
    expect(removal.envelope).toMatchObject({ type: 'customers.removed', data: { id: 'k' } });
    expect(removal.envelope).not.toHaveProperty('summary');
  });
});

describe('the audit projection of an entry (what the live events would show)', () => {
  const card = OWNER_CARD;
  const at = actorAt;
  const cardChange = (summary: Record<string, unknown>) =>
    entry({
      resource: 'cards',
      entityId: 'card',
      before: card,
      after: { ...card, name: 'Retail EU' },
      scopeBefore: 'c/',
      scopeAfter: 'c/',
      summary,
      audience: { holders: ['r1', 'k9'] },
    });
  const withheld = { before: null, after: null, summary: null, detail: 'withheld' };

  it('withholds what changed from a viewer without the resource’s read grant', () => {
    const change = cardChange({ event: 'rates_changed', rows: 12 });
    expect(auditViewOf(at('c', 'c/', ['audit:read', 'users:read']), change)).toEqual(withheld);
    expect(auditViewOf(at('c', 'c/', ['audit:read', 'cards:read']), change)).toEqual({
      before: card,
      after: { ...card, name: 'Retail EU' },
      summary: { event: 'rates_changed', rows: 12 },
      detail: 'shown',
    });
  });

  it('gives a holder of the card its assignee view, and never a margin alert', () => {
    const holder = at('r1', 'c/r1/', ['audit:read', 'cards:read']);
    const seen = auditViewOf(
      holder,
      cardChange({ event: 'rates_changed', rows: 12, cause: 'put' }),
    );
    expect(Object.keys(seen.after!).sort()).toEqual([...ASSIGNEE_VIEW_KEYS].sort());
    expect(Object.keys(seen.before!).sort()).toEqual([...ASSIGNEE_VIEW_KEYS].sort());
    expect(seen.summary).toEqual({ event: 'rates_changed', rows: 12 });
    expect(JSON.stringify(seen)).not.toMatch(/upstream|markup|k9|losing|cause/);
    expect(auditViewOf(holder, cardChange({ event: 'margin_alert', prefixes: ['441'] }))).toEqual(
      withheld,
    );
  });

  it('never shows a holder the assignment itself (it is a card to them)', () => {
    const assignment = entry({
      resource: 'assignments',
      entityId: 'a1',
      op: 'created',
      before: null,
      after: { id: 'a1', cardId: 'card', accountId: 'r1' },
      scopeBefore: null,
      scopeAfter: 'c/',
      audience: { holder: 'r1', card: { ...card, relation: 'assigned' } as never },
    });
    const grants = ['audit:read', 'cards:read', 'assignments:read'];
    expect(auditViewOf(at('r1', 'c/r1/', grants), assignment)).toEqual(withheld);
    expect(auditViewOf(at('c', 'c/', grants), assignment)).toMatchObject({
      after: { accountId: 'r1' },
      // The hints were never part of the summary: nothing is left to show.
      summary: null,
      detail: 'shown',
    });
  });

  it('shows each side of a move only to those who saw that side, with no summary', () => {
    const moved = entry({
      before: { id: 'k', parentId: 'r1' },
      after: { id: 'k', parentId: 'r2' },
      scopeBefore: 'c/r1/',
      scopeAfter: 'c/r2/',
      summary: { reason: 'transfer' },
    });
    const grants = ['audit:read', 'customers:read'];
    expect(auditViewOf(at('r1', 'c/r1/', grants), moved)).toEqual({
      before: { id: 'k', parentId: 'r1' },
      after: null,
      summary: null,
      detail: 'shown',
    });
    expect(auditViewOf(at('r2', 'c/r2/', grants), moved)).toMatchObject({
      before: null,
      after: { id: 'k', parentId: 'r2' },
    });
    expect(auditViewOf(at('c', 'c/', grants), moved)).toMatchObject({
      summary: { reason: 'transfer' },
      detail: 'shown',
    });
    expect(auditViewOf(at('r1', 'c/r1/', ['audit:read']), moved)).toEqual(withheld);
  });

  it('reads bodiless changes and those that never travel live by the person behind them', () => {
    const password = entry({
      resource: 'users',
      entityId: 'u',
      before: null,
      after: null,
      summary: { passwordChanged: true },
    });
    expect(auditViewOf(at('r1', 'c/r1/', ['audit:read', 'users:read']), password)).toEqual({
      before: null,
      after: null,
      summary: { passwordChanged: true },
      detail: 'shown',
    });
    expect(auditViewOf(at('r1', 'c/r1/', ['audit:read']), password)).toEqual(withheld);
    const viewAs = entry({
      resource: 'impersonation',
      entityId: 'i',
      op: 'created',
      before: null,
      after: { targetUserId: 'u', targetEmail: 'ops@r1.test', reason: 'ticket' },
      scopeBefore: null,
    });
    expect(auditViewOf(at('r1', 'c/r1/', ['audit:read', 'users:read']), viewAs)).toMatchObject({
      after: { targetEmail: 'ops@r1.test' },
      detail: 'shown',
    });
    expect(auditViewOf(at('r1', 'c/r1/', ['audit:read', 'customers:read']), viewAs)).toEqual(
      withheld,
    );
  });
});
