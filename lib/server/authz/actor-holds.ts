import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from './actor';
import { DomainError } from '@/lib/server/errors/domain-error';
import { directQuery } from '@/lib/server/db/direct-query';
import { carrierIdOf, isBelow, onPathSql } from './scope';

/** The advisory locks' first key: what a write holds of its author (the second: the id). */
const AUTHOR_LOCKS = 0x4155_7468;

interface TAuthorRow {
  status: string;
  session_version: number;
  group_id: string;
  grants: string[];
  suspended: boolean;
}

/**
 * A write's author, judged again inside the write's transaction and held there until it
 * commits. The door judged the request before the transaction began; a write can then
 * wait seconds on a row another holds (an import, a statement, a rating batch). An admin
 * who disabled the author, reset its password or took a grant from it meanwhile would
 * otherwise see the write land after that change, naming someone who by then could not
 * have made it (DESIGN §2: permission changes take effect at once).
 *
 * Held as shared advisory locks on the author's user and group, taken first; what can
 * take access away (`revokes`: a user's edit, reset or deletion, a group's new grants)
 * takes the same locks exclusively before anything else. So such a change waits for the
 * writes in flight, and a write that starts after it waits for it and then reads it
 * committed. Advisory locks, not row locks: their queue is fair (a write arriving after a
 * waiting disable waits behind it, where row share locks would let a stream of writes
 * starve it), a member editing its own group takes the exclusive one first (no upgrade
 * for two to deadlock on), and a sign-in's update of the user's row (its last sign-in)
 * waits, like any write, behind a revoking one.
 * Grants gained meanwhile do not matter; one lost that the actor held does. An account
 * suspended above it is read, not held (it would make every writer below wait on it), and
 * read again once the write has the carrier's head (`assertNotSuspendedSince`).
 */
export async function holdAuthor(
  tx: EntityManager,
  actor: TActor,
  revokes: readonly string[] = [],
): Promise<void> {
  if (revokes.length) {
    // Every lock in one order, each id's strongest: two admins disabling each other at
    // once take each other's and their own in the same order, so one waits, none deadlock.
    const exclusive = new Set(revokes);
    for (const id of [...new Set([...revokes, actor.userId, actor.group.id])].sort()) {
      const lock = exclusive.has(id) ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
      await directQuery(tx, `select ${lock}(?, hashtext(?))`, [AUTHOR_LOCKS, id]);
    }
  } else {
    // Every write runs this and the read below (through `pg`, prepared: issue 14's cost
    // per change). Two statements, not one: a statement reads as of its start, and the
    // read must see what a revoking edit committed while the lock waited for it.
    await directQuery(
      tx,
      `select pg_advisory_xact_lock_shared(?, hashtext(?)),
              pg_advisory_xact_lock_shared(?, hashtext(?))`,
      [AUTHOR_LOCKS, actor.userId, AUTHOR_LOCKS, actor.group.id],
      { prepared: true },
    );
  }
  const rows = await directQuery<TAuthorRow>(tx, AUTHOR_NOW, [actor.userId], { prepared: true });
  if (!holdsNow(actor, rows[0])) {
    throw new DomainError(
      'forbidden',
      'access_changed',
      'Your access changed while this was being saved; nothing was saved.',
    );
  }
}

/** The author's user as it is now: status, session, group, grants, an account above suspended. */
const AUTHOR_NOW = `select u.status, u.session_version, u.group_id, g.grants,
            exists (select 1 from account s
                     where s.status = 'suspended'
                       and s.id = any (string_to_array(rtrim(a.path, '/'), '/')::uuid[]))
              as suspended
       from app_user u join user_group g on g.id = u.group_id join account a on a.id = u.account_id
      where u.id = ?`;

/** Whether the actor, as judged at the door, still stands: grants gained do not matter. */
function holdsNow(actor: TActor, now: TAuthorRow | undefined): now is TAuthorRow {
  return Boolean(
    now &&
    now.status === 'active' &&
    !now.suspended &&
    now.session_version === actor.sessionVersion &&
    now.group_id === actor.group.id &&
    actor.grants.every((grant) => now.grants.includes(grant)),
  );
}

/**
 * The author's account, or one above it, suspended while the write waited — for the
 * carrier's log head, which a suspension passes on its way to commit too. Read after the
 * write's log rows took the head (`mutate`): a suspension that committed before then is
 * seen, one after it comes after this write; so no write of an account's people lands
 * after its suspension, as none lands after its author's disabling (`holdAuthor`, which
 * only reads the suspension, not to make every writer below wait on it). A carrier's
 * people have nothing above them to suspend: they skip the read.
 */
export async function assertNotSuspendedSince(tx: EntityManager, actor: TActor): Promise<void> {
  if (!isBelow(`${carrierIdOf(actor.account.path)}/`, actor.account.path)) return;
  const onPath = onPathSql('id', actor.account.path);
  const [row] = await directQuery<{ suspended: boolean }>(
    tx,
    `select exists (select 1 from account where status = 'suspended' and ${onPath.sql})
       as suspended`,
    onPath.params,
    { prepared: true },
  );
  if (row?.suspended) {
    throw new DomainError(
      'forbidden',
      'access_changed',
      'Your access changed while this was being saved; nothing was saved.',
    );
  }
}
