import type { TActor } from './actor';
import { can } from './can';
import { isWithin } from './scope';

export type TNamedActor =
  { kind: 'user'; id: string; name: string; email: string } | { kind: 'account'; name: string };

/** Who did something, as stored with a change: the user and the account acting. */
export interface TActorRecord {
  userId: string | null;
  name: string | null;
  email: string | null;
  /** The account path of the acting user, when it still exists. */
  userPath: string | null;
  accountName: string | null;
}

/**
 * DESIGN §2 "Who did it": a person is named only to viewers who may read that user
 * (`users:read` and the user inside the viewer's subtree); everyone else sees the
 * acting account's name ("Carrier", not the support agent's email).
 */
export function mayNamePeopleAt(
  viewerPath: string,
  viewerReadsUsers: boolean,
  record: TActorRecord,
): boolean {
  return Boolean(
    record.userId &&
    record.name &&
    record.email &&
    viewerReadsUsers &&
    isWithin(viewerPath, record.userPath),
  );
}

export function nameActor(viewer: TActor, record: TActorRecord): TNamedActor {
  return projectActor(
    record,
    mayNamePeopleAt(viewer.account.path, can(viewer, 'users:read'), record),
  );
}

export function projectActor(record: TActorRecord, named: boolean): TNamedActor {
  if (named) return { kind: 'user', id: record.userId!, name: record.name!, email: record.email! };
  // No account: an operations command (first start, `carrier:create`), no person at all.
  return { kind: 'account', name: record.accountName ?? 'System' };
}
