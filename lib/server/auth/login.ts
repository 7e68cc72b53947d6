import type { EntityManager } from '@mikro-orm/postgresql';
import { evaluateActor, unsafeFindLoginRow } from '@/lib/server/authz/actor';
import { isWithin } from '@/lib/server/authz/scope';
import { verifyPassword } from './password';
import { mutate } from '@/lib/server/live/change-log';
import { notifyPerson } from '@/lib/server/services/notifications/notify-accounts';
import { getLogger } from '@/lib/server/observability/logger';
import type { TSessionClaims } from './session';
import { verifySecondFactor } from '@/lib/server/services/mfa/second-factor';
import {
  claimLoginAttempt,
  claimOwnPasswordAttempt as claimUserSecretGuess,
  clearOwnPasswordAttempts as clearUserSecretGuesses,
  loginSucceeded,
  passwordAccepted,
  pruneThrottles,
  type TLoginThrottlePolicy,
} from './throttle';

export type TLoginResult =
  | {
      ok: true;
      claims: Omit<TSessionClaims, 'sid'>;
      passwordHash: string;
      /** A second factor was checked (the user has MFA on). */
      mfaChecked: boolean;
    }
  | { ok: false; reason: 'refused' }
  /** Password right, the user has MFA on, and no code came: ask for it. */
  | { ok: false; reason: 'otp_required' }
  /** Password right, the code wrong or spent. */
  | { ok: false; reason: 'otp_invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * Checks an email and password for a client IP. Every refusal reads alike (unknown
 * email, wrong password, disabled user, suspended account, no usable group, a user from
 * outside the portal's subtree) and an
 * unknown email costs the same time; failures are throttled per (email, IP) and per IP.
 * The attempt is claimed (counted) before the password is checked, so concurrent guesses
 * cannot slip past the throttle; a success gives the claim back. A user with MFA on also
 * needs `otp` (a TOTP code or a recovery code), asked for only after the password is
 * right, so nothing tells MFA state to one who lacks the password; a missing or wrong
 * code leaves the claim counted, like a wrong password.
 */
export async function authenticate(
  em: EntityManager,
  input: {
    email: string;
    password: string;
    otp?: string;
    ip: string;
    /**
     * On a brand's portal (issue 19), the path of the account owning the brand: only
     * users of that account and the accounts below it sign in there. Anyone else gets
     * exactly the unknown email's answer, after the same work.
     */
    portalPath?: string | null;
  },
  policy: TLoginThrottlePolicy,
): Promise<TLoginResult> {
  // Lower case may lengthen it (some letters become two): the throttle's key holds 320,
  // and no user's email is longer.
  const email = input.email.trim().toLowerCase().slice(0, 320);
  const claim = await claimLoginAttempt(em, email, input.ip, policy);
  if (claim.wait > 0) {
    // Not awaited: the answer must not take longer for an email that is someone's.
    if (claim.pausedUntil) tellOfPausedSignIns(em.fork(), email, claim.pausedUntil, policy);
    return { ok: false, reason: 'throttled', retryAfterSeconds: claim.wait };
  }

  const row = await unsafeFindLoginRow(em, email);
  // The hash checked here: a session or token is issued only while it is still the
  // user's (a password change committing meanwhile must not be outlived).
  const passwordOk = await verifyPassword(row?.password_hash ?? null, input.password);
  // Judged after the hash check, whatever its outcome, so a user from elsewhere costs
  // the same time as an unknown email; and before MFA, so its state is never told.
  const onThisPortal = !input.portalPath || isWithin(input.portalPath, row?.account_path);
  const result = row && passwordOk && onThisPortal ? evaluateActor(row) : null;
  if (!result || !('actor' in result)) {
    // Counted when claimed. Refusals are what add rows, so they also clear out old ones.
    await pruneThrottles(em, policy);
    return { ok: false, reason: 'refused' };
  }
  if (result.actor.mfa.enrolled) {
    const otp = input.otp?.trim();
    if (!otp) {
      await passwordAccepted(em, email, input.ip, policy);
      await pruneThrottles(em, policy);
      return { ok: false, reason: 'otp_required' };
    }
    // Per user, whatever the address: one who has the password and many IPs must not get
    // unlimited guesses at the code (the pair and IP budgets alone would allow that).
    const wait = await claimUserSecretGuess(em, result.actor.userId, policy);
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterSeconds: wait };
    if (!(await verifySecondFactor(em, result.actor, otp))) {
      await pruneThrottles(em, policy);
      return { ok: false, reason: 'otp_invalid' };
    }
    await clearUserSecretGuesses(em, result.actor.userId);
  }
  await loginSucceeded(em, email, input.ip, policy);
  // The user's last sign-in moves with what the caller opens on this (a session, a
  // token), in the transaction that logs it: `markSignedIn`.
  return {
    ok: true,
    claims: { sub: result.actor.userId, sv: result.actor.sessionVersion },
    passwordHash: row!.password_hash!,
    mfaChecked: result.actor.mfa.enrolled,
  };
}

/** The client address the custom server stamped on the request (never a client header). */
export const CLIENT_IP_HEADER = 'x-panel-client-ip';

/**
 * The email's budget for new addresses is spent (`claimLoginAttempt`): if it is a
 * person's, they are told — in the panel and by mail — that sign-ins from addresses they
 * have not used lately wait until `until`, and what to do if it was not them. In the
 * background, after the refusal is answered; a failure to tell is logged, never thrown.
 */
function tellOfPausedSignIns(
  em: EntityManager,
  email: string,
  until: Date,
  policy: TLoginThrottlePolicy,
): void {
  const when = `${until.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  void (async () => {
    const [person] = await em.execute<{ id: string; account_id: string }[]>(
      'select id, account_id from app_user where email = ?',
      [email],
    );
    if (!person) return;
    await mutate(em, null, (tx, record) =>
      notifyPerson(
        tx,
        record,
        { userId: person.id, accountId: person.account_id },
        {
          kind: 'user.sign_ins_paused',
          title: 'Sign-ins from new addresses paused',
          body:
            `${policy.accountFailures} sign-ins as ${email} failed from addresses it has not ` +
            `signed in from in the last ${policy.knownAddressDays} days. Until ${when}, it signs ` +
            'in only from addresses it has used. If these were not you, someone is guessing ' +
            'your password: choose a new one, unique to this panel, and turn MFA on if it is off.',
          link: '/account/security',
        },
      ),
    );
  })().catch((error: unknown) => {
    getLogger().error({ err: error }, 'sign-ins paused: the person was not told');
  });
}
