import type { TActor } from './actor';
import { can } from './can';
import { ancestorPrefixes, isBelow, isWithin } from './scope';

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
  /** The acting account's path, when it still exists: whose side it acted from. */
  accountPath: string | null;
}

/**
 * What an acting account further up than the viewer's parent is called to that viewer.
 * A reseller's customers are told of its provider's provider (a carrier's switch posting
 * their calls, a root card's change reaching theirs, carrier support viewing as them)
 * without its name: under a reseller with a brand they must never learn the carrier
 * behind it, and the rule does not wait for a brand to be set.
 */
export const UPSTREAM_ACTOR = 'Upstream provider';

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
    viewer.account.path,
  );
}

/**
 * The actor as told to a viewer whose account is at `viewerPath` — null for receivers
 * of unknown depth (everyone below an account): a person when `named`, else the acting
 * account's name where the viewer may know it (its own account, one below it, its
 * parent: anything but an ancestor of its parent), else `UPSTREAM_ACTOR`.
 */
export function projectActor(
  record: TActorRecord,
  named: boolean,
  viewerPath: string | null,
): TNamedActor {
  if (named) return { kind: 'user', id: record.userId!, name: record.name!, email: record.email! };
  // No account: an operations command (first start, `carrier:create`), no person at all.
  if (record.accountName === null) return { kind: 'account', name: 'System' };
  return {
    kind: 'account',
    name: mayNameAccountAt(viewerPath, record.accountPath) ? record.accountName : UPSTREAM_ACTOR,
  };
}

/**
 * Whether the acting account may be named at `viewerPath`: anything but an ancestor of
 * the viewer's parent. Asked that way round because the acting account's path is read
 * now and the viewer's may be an entry's of its time: an account that since moved is
 * never an ancestor of a path it was not on, and a viewer's ancestors never move, so
 * the answer holds for the audit and catch-up alike.
 */
function mayNameAccountAt(viewerPath: string | null, accountPath: string | null): boolean {
  if (viewerPath === null || accountPath === null) return false;
  // A carrier has no parent: '' is nobody's descendant.
  const parentPath = ancestorPrefixes(viewerPath).at(-2)?.[1] ?? '';
  return !isBelow(accountPath, parentPath);
}
