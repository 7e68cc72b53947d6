import { describe, expect, it } from 'vitest';
import { audienceOf, roomFor, roomsOf, type TLogEntry } from '@/lib/server/authz/audience';
import type { TActor } from '@/lib/server/authz/actor';

const entry = (change: Partial<TLogEntry>): TLogEntry => ({
  seq: 7,
  at: new Date('2026-11-28T10:00:00Z'),
  resource: 'customers',
  entityId: 'k',
  op: 'updated',
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
});
