import type { TChange } from './change-log';

/**
 * Whether a change can alter what someone may do or see beyond the entity itself —
 * grants, group membership, an effective status, a session or password version, a
 * credential or a view-as ended — decided once, when the entry is written, and stored
 * with it (`change_log.affects_access`). Live revocation (server/revocation.ts), catch-up's
 * "did your access change" check and its partial index read that flag alone, so a rename
 * costs no re-check anywhere.
 */
export function affectsAccess(change: TChange): boolean {
  switch (change.resource) {
    case 'users':
      if (change.op === 'created') return false;
      if (change.op === 'deleted') return true;
      return (
        differs(change, 'groupId') ||
        differs(change, 'status') ||
        // The door's gates: a forced password change, MFA enrolment.
        differs(change, 'mustChangePassword') ||
        differs(change, 'mfaEnabled') ||
        Boolean(change.summary?.sessionsRevoked || change.summary?.passwordChanged)
      );
    case 'groups':
      // A group is created empty and deleted only once empty: no one's access moves.
      return (
        change.op === 'updated' &&
        (!sameMembers(change.before?.grants, change.after?.grants) || differs(change, 'requireMfa'))
      );
    case 'impersonation':
      return true;
    case 'sessions':
    case 'tokens':
      return change.op === 'deleted';
    case 'resellers':
    case 'customers':
      // The DTO's status is the effective one; a transfer moves the account's scope.
      return (
        change.op === 'updated' &&
        (differs(change, 'status') || change.scopeBefore !== change.scopeAfter)
      );
    case 'carriers':
    case 'cards':
    case 'assignments':
    case 'notifications':
      return false;
    case 'statements':
      // An issued statement is a document; nobody's access moves with it.
      return false;
    case 'brands':
      // A brand changes what a portal looks like, not who may do what (until sessions
      // are bound to a brand's hostname: a later slice of issue 19).
      return false;
  }
}

function differs(change: TChange, field: string): boolean {
  return change.before?.[field] !== change.after?.[field];
}

function sameMembers(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return a === b;
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((item) => set.has(item));
}
