import type { EntityManager } from '@mikro-orm/postgresql';
import type { TActor } from '@/lib/server/authz/actor';
import { decryptSecret, hashRecoveryCode, looksLikeTotp, verifyTotp } from '@/lib/server/auth/mfa';
import { mutate } from '@/lib/server/live/change-log';
import { getRuntime } from '@/lib/server/runtime';
import { getLogger } from '@/lib/server/observability/logger';

/**
 * Checks an enrolled user's second factor: a current TOTP code, or one unused recovery
 * code (spent by this check). Both are single-use and race-safe: the step or the code is
 * taken by one conditional UPDATE, so two requests with the same code cannot both pass.
 * Spending a recovery code is audited; a TOTP sign-in is not an edit (like
 * `last_login_at`, `mfa_last_step` changes without a change-log row).
 */
export async function verifySecondFactor(
  em: EntityManager,
  actor: TActor,
  code: string,
): Promise<boolean> {
  const authSecret = getRuntime().config.authSecret;
  const rows = await em.execute<{ mfa_secret: string | null; mfa_last_step: number | null }[]>(
    'select mfa_secret, mfa_last_step from app_user where id = ? and mfa_enabled_at is not null',
    [actor.userId],
  );
  const row = rows[0];
  if (!row?.mfa_secret) return false;
  if (looksLikeTotp(code)) {
    const secret = openSecret(row.mfa_secret, authSecret);
    const step = secret === null ? null : verifyTotp(secret, code, row.mfa_last_step);
    if (step === null) return false;
    const taken = await em.execute<{ id: string }[]>(
      `update app_user set mfa_last_step = ?
        where id = ? and (mfa_last_step is null or mfa_last_step < ?) returning id`,
      [step, actor.userId, step],
    );
    return taken.length === 1;
  }
  return spendRecoveryCode(em, actor, hashRecoveryCode(code, authSecret));
}

/**
 * The secret, or null when it was sealed under another AUTH secret (rotated since): the
 * code is refused, never a 500; an admin's MFA reset is the way back.
 */
function openSecret(stored: string, authSecret: string): string | null {
  try {
    return decryptSecret(stored, authSecret);
  } catch (error) {
    getLogger().warn({ err: error }, 'mfa: a stored secret does not open with AUTH_SECRET');
    return null;
  }
}

async function spendRecoveryCode(em: EntityManager, actor: TActor, hash: string): Promise<boolean> {
  return mutate(em, actor, async (tx, record) => {
    const spent = await tx.execute<{ left: number; version: number; path: string }[]>(
      `update app_user u set mfa_recovery_codes = array_remove(u.mfa_recovery_codes, ?)
         from account a
        where u.id = ? and a.id = u.account_id and ? = any (u.mfa_recovery_codes)
        returning cardinality(u.mfa_recovery_codes) as left, u.version, a.path`,
      [hash, actor.userId, hash],
    );
    const row = spent[0];
    if (!row) return false;
    record({
      resource: 'users',
      entityId: actor.userId,
      op: 'updated',
      version: row.version,
      before: null,
      after: null,
      scopeBefore: row.path,
      scopeAfter: row.path,
      summary: { mfaRecoveryCodeUsed: true, recoveryCodesLeft: Number(row.left) },
    });
    return true;
  });
}
