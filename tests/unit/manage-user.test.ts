import { describe, expect, it } from 'vitest';
import { manageRefusal } from '@/lib/server/authz/manage-user';

describe('the manage rule (DESIGN §1 "Managing users")', () => {
  const actor = { userId: 'me', grants: ['users:read', 'users:update'] as const };
  it.each([
    ['a poorer user', ['users:read'], null],
    ['an equal user', ['users:update', 'users:read'], null],
    ['a group granting nothing', [], null],
    [
      'a richer user',
      ['users:read', 'users:update', 'impersonation:start'],
      { reason: 'escalation', lacking: ['impersonation:start'] },
    ],
    [
      'a different user',
      ['cards:read', 'users:read'],
      { reason: 'escalation', lacking: ['cards:read'] },
    ],
  ] as const)('%s', (_name, grants, want) => {
    expect(
      manageRefusal(
        { ...actor, grants: [...actor.grants] },
        { id: 'other', grants, grantsShown: true },
      ),
    ).toEqual(want);
  });

  it('names no grant of a group the actor may not read', () => {
    expect(
      manageRefusal(
        { ...actor, grants: [...actor.grants] },
        { id: 'other', grants: ['users:read', 'impersonation:start'], grantsShown: false },
      ),
    ).toEqual({ reason: 'escalation', lacking: [] });
  });

  it('never oneself, whatever the grants', () => {
    expect(
      manageRefusal(
        { ...actor, grants: [...actor.grants] },
        { id: 'me', grants: [], grantsShown: true },
      ),
    ).toEqual({
      reason: 'self',
    });
  });
});
