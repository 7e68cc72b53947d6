import { describe, expect, it } from 'vitest';
import {
  audienceOf,
  envelopeFor,
  roomFor,
  roomsOf,
  type TLogEntry,
} from '@/lib/server/authz/audience';
import type { TActor } from '@/lib/server/authz/actor';

const entry = (change: Partial<TLogEntry>): TLogEntry => ({
  seq: 7,
  at: new Date('2026-11-28T10:00:00Z'),
  resource: 'customers',
  entityId: 'k',
  op: 'updated',
  before: null,
  after: { id: 'k', name: 'Hotel' },
  scopeBefore: 'c/r1/',
  scopeAfter: 'c/r1/',
  actor: { userId: 'u', name: 'Ann', email: 'ann@c.test', userPath: 'c/', accountName: 'Carrier' },
  ...change,
});

/** Which envelope type each room receives. */
const byRoom = (e: TLogEntry) =>
  Object.fromEntries(
    audienceOf(e).map((d) => [
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
    const gone = audienceOf(entry({ op: 'deleted', scopeAfter: null, after: null }));
    expect(gone.every((d) => d.envelope.type === 'customers.deleted')).toBe(true);
    expect(gone.every((d) => JSON.stringify(d.envelope.data) === '{"id":"k"}')).toBe(true);
  });

  it('does not fan out resources without a live read grant (tokens, impersonation)', () => {
    expect(audienceOf(entry({ resource: 'tokens' }))).toEqual([]);
  });

  it('puts a socket in the rooms its grants open, at its own account', () => {
    const actor = {
      account: { id: 'r1', path: 'c/r1/' },
      grants: ['customers:read', 'groups:read'],
    } as unknown as TActor;
    expect(roomsOf(actor)).toEqual([
      roomFor('r1', 'customers', false),
      roomFor('r1', 'groups', false),
    ]);
  });

  describe("use-only groups (an ancestor's group, seen by whoever below may assign it)", () => {
    const viewer = (grants: string[]) =>
      ({ account: { id: 'r2', path: 'c/r1/r2/' }, grants }) as unknown as TActor;
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
      const owner = { account: { id: 'r1', path: 'c/r1/' }, grants: ['users:create'] };
      expect(seen(owner as unknown as TActor, change(null, []))).toBeNull();
    });
  });
});
