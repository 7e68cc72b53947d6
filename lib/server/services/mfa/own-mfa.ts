import type { EntityManager } from '@mikro-orm/postgresql';
import QRCode from 'qrcode';
import { User, type TUser } from '@/lib/server/entities';
import type { TActor } from '@/lib/server/authz/actor';
import { DomainError, conflict, invalidInput } from '@/lib/server/errors/domain-error';
import {
  decryptSecret,
  encryptSecret,
  hashRecoveryCode,
  newRecoveryCodes,
  newTotpSecret,
  totpUri,
  verifyTotp,
} from '@/lib/server/auth/mfa';
import { verifyPassword } from '@/lib/server/auth/password';
import {
  claimOwnPasswordAttemptOrRefuse,
  clearOwnPasswordAttempts,
} from '@/lib/server/auth/throttle';
import { mutate } from '@/lib/server/live/change-log';
import type { TCredentialRef } from '@/lib/server/auth/door';
import { endOtherSessions } from '@/lib/server/auth/sessions';
import { getRuntime } from '@/lib/server/runtime';
import { toUserDto, userUpdated } from '@/lib/server/services/users/user-access';
import { effectiveBrand } from '@/lib/server/services/brands/brands';
import { DEFAULT_BRAND_NAME } from '@/lib/shared/schemas/brands';
import type {
  TMfaDisable,
  TMfaEnrolment,
  TMfaRecoveryCodes,
  TMfaStart,
  TMfaStatus,
} from '@/lib/shared/schemas/mfa';

/**
 * One's own MFA (DESIGN §1 "MFA"): start enrolment, confirm it with a first code, turn
 * it off. Every change is audited through `mutate`; the log carries the user's DTO
 * (`mfaEnabled`) and what happened, never a secret or a code.
 */

async function loadSelf(tx: EntityManager, actor: TActor): Promise<TUser> {
  if (actor.impersonatorUserId) {
    throw new DomainError(
      'forbidden',
      'impersonation_read_only',
      'Viewing as another user is read-only.',
    );
  }
  return tx.findOneOrFail(
    User,
    { id: actor.userId },
    {
      populate: [
        'account',
        'group',
        'mfaSecret',
        'mfaPendingSecret',
        'mfaRecoveryCodes',
        'passwordHash',
      ],
    },
  );
}

/**
 * A guess at the user's password or code is counted before it is checked, throttled per
 * user like `POST /me/password`: a stolen session cannot brute-force its way to turning
 * MFA off or to enrolling its own authenticator.
 */
const TOO_MANY_GUESSES = 'Too many wrong codes or passwords; try again later.';

/** The user's change as the audit and the live feed see it. */

export async function getMfaStatus(em: EntityManager, actor: TActor): Promise<TMfaStatus> {
  const user = await em.findOneOrFail(
    User,
    { id: actor.userId },
    { populate: ['mfaPendingSecret', 'mfaRecoveryCodes'] },
  );
  return {
    enabled: user.mfaEnabledAt !== null && user.mfaEnabledAt !== undefined,
    enabledAt: user.mfaEnabledAt ? user.mfaEnabledAt.toISOString() : null,
    pending: Boolean(user.mfaPendingSecret),
    required: actor.mfa.required,
    recoveryCodesLeft: user.mfaEnabledAt ? (user.mfaRecoveryCodes?.length ?? 0) : 0,
  };
}

/**
 * A new secret, kept pending (encrypted) until a code from it is confirmed; starting
 * again replaces it. Refused while MFA is on: turn it off first (or an admin resets it).
 * Starts only with the current password: a stolen session cookie or API token is not
 * the person, and must not put its own authenticator on the account (the owner would
 * then be asked for codes only the thief has). Wrong passwords are throttled per user,
 * as when turning MFA off.
 */
export async function startMfaEnrolment(
  em: EntityManager,
  actor: TActor,
  input: TMfaStart,
): Promise<TMfaEnrolment> {
  const { authSecret, loginThrottle } = getRuntime().config;
  await refuseByState(em, actor, startRefusal);
  await claimOwnPasswordAttemptOrRefuse(em, actor.userId, loginThrottle, TOO_MANY_GUESSES);
  const secret = newTotpSecret();
  // The app lists the entry under the brand the person works in.
  const brand = await effectiveBrand(em, actor.account.path);
  const uri = totpUri(secret, actor.email, brand?.brand.displayName ?? DEFAULT_BRAND_NAME);
  await mutate(em, actor, async (tx, record) => {
    const user = await loadSelf(tx, actor);
    throwIf(startRefusal(user, actor));
    await assertProof(user, { password: input.password }, authSecret);
    const before = toUserDto(user);
    user.mfaPendingSecret = encryptSecret(secret, authSecret);
    await tx.flush();
    // Inside the change's transaction: the count goes only if the change commits.
    await clearOwnPasswordAttempts(tx, user.id);
    record(userUpdated(user, before, { mfa: 'enrolment_started' }));
  });
  const svg = await QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
  return {
    otpauthUri: uri,
    secret,
    qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  };
}

/**
 * The first code from the app turns MFA on; answers the recovery codes, this once. The
 * person's other sessions end with it: each was opened with the password alone, and one
 * may be the very thief that made someone turn MFA on. The session (or token) enrolling
 * stays; API tokens stay too — they are a script's or a switch's, which MFA never asked
 * for, and the password change is what revokes them. Guesses at the code are throttled
 * per user like the password that started it: a pending enrolment never expires, and a
 * stolen session guessing its six digits would otherwise come, in time, to the recovery
 * codes and the end of the owner's other sessions.
 */
export async function confirmMfaEnrolment(
  em: EntityManager,
  actor: TActor,
  input: { otp: string },
  credential: TCredentialRef,
): Promise<TMfaRecoveryCodes> {
  const { authSecret, loginThrottle } = getRuntime().config;
  await refuseByState(em, actor, confirmRefusal);
  await claimOwnPasswordAttemptOrRefuse(em, actor.userId, loginThrottle, TOO_MANY_GUESSES);
  const codes = newRecoveryCodes();
  await mutate(em, actor, async (tx, record) => {
    const user = await loadSelf(tx, actor);
    // Refused above unless enrolment is pending: its secret is there.
    throwIf(confirmRefusal(user, actor));
    const secret = decryptSecret(user.mfaPendingSecret!, authSecret);
    const step = verifyTotp(secret, input.otp, null);
    if (step === null) {
      throw invalidInput({ otp: 'is not the current code from your authenticator app' });
    }
    const before = toUserDto(user);
    tx.assign(user, {
      mfaSecret: user.mfaPendingSecret,
      mfaPendingSecret: null,
      mfaEnabledAt: new Date(),
      mfaRecoveryCodes: codes.map((code) => hashRecoveryCode(code, authSecret)),
      mfaLastStep: step,
    });
    await tx.flush();
    // Inside the change's transaction: the count goes only if the change commits.
    await clearOwnPasswordAttempts(tx, user.id);
    const keep = credential.kind === 'session' ? credential.sessionId : null;
    const sessionsEnded = await endOtherSessions(tx, user.id, keep);
    record(userUpdated(user, before, { mfa: 'enabled', sessionsEnded }));
  });
  return { recoveryCodes: codes };
}

/**
 * Turns one's own MFA off (or drops a pending enrolment) with a current code, a recovery
 * code or the password. Refused while the user's group requires MFA.
 */
export async function disableOwnMfa(
  em: EntityManager,
  actor: TActor,
  input: TMfaDisable,
): Promise<void> {
  const { authSecret, loginThrottle } = getRuntime().config;
  await refuseByState(em, actor, disableRefusal);
  if (input.otp !== undefined || input.password !== undefined) {
    await claimOwnPasswordAttemptOrRefuse(em, actor.userId, loginThrottle, TOO_MANY_GUESSES);
  }
  await mutate(em, actor, async (tx, record) => {
    const user = await loadSelf(tx, actor);
    throwIf(disableRefusal(user, actor));
    if (user.mfaEnabledAt) await assertProof(user, input, authSecret);
    const before = toUserDto(user);
    const wasOn = Boolean(user.mfaEnabledAt);
    clearMfa(user);
    await tx.flush();
    // Inside the change's transaction: the count goes only if the change commits.
    await clearOwnPasswordAttempts(tx, user.id);
    record(userUpdated(user, before, { mfa: wasOn ? 'disabled' : 'enrolment_cancelled' }));
  });
}

/*
 * What each step refuses for the user's state, asked once before a guess is counted and
 * again inside the change's transaction (the state may move between). A refusal for state
 * is no guess at a code or the password: counted, three of them locked the person's own
 * password change (`/me/password` shares the budget) with the right password.
 */
type TStateRefusal = (user: TUser, actor: TActor) => DomainError | null;

const startRefusal: TStateRefusal = (user) =>
  user.mfaEnabledAt
    ? conflict('mfa_enabled', 'MFA is on already; turn it off first to enrol again.')
    : null;

const confirmRefusal: TStateRefusal = (user) =>
  user.mfaEnabledAt
    ? conflict('mfa_enabled', 'MFA is on already.')
    : !user.mfaPendingSecret
      ? conflict('mfa_not_started', 'Start enrolment first (POST /me/mfa).')
      : null;

const disableRefusal: TStateRefusal = (user, actor) =>
  !user.mfaEnabledAt && !user.mfaPendingSecret
    ? conflict('mfa_not_enabled', 'MFA is not on.')
    : user.mfaEnabledAt && actor.mfa.required
      ? new DomainError(
          'forbidden',
          'mfa_required',
          'Your group requires MFA; it cannot be turned off.',
        )
      : null;

function throwIf(refusal: DomainError | null): void {
  if (refusal) throw refusal;
}

/** The state's refusal, read outside any transaction, before the guess is claimed. */
async function refuseByState(
  em: EntityManager,
  actor: TActor,
  refusal: TStateRefusal,
): Promise<void> {
  throwIf(refusal(await loadSelf(em.fork(), actor), actor));
}

async function assertProof(user: TUser, input: TMfaDisable, authSecret: string): Promise<void> {
  if (input.otp !== undefined) {
    const secret = decryptSecret(user.mfaSecret!, authSecret);
    const totpOk = verifyTotp(secret, input.otp, user.mfaLastStep ?? null) !== null;
    const recoveryOk = (user.mfaRecoveryCodes ?? []).includes(
      hashRecoveryCode(input.otp, authSecret),
    );
    if (!totpOk && !recoveryOk) {
      throw invalidInput({ otp: 'is not a current code or an unused recovery code' });
    }
    return;
  }
  if (input.password !== undefined) {
    if (!(await verifyPassword(user.passwordHash ?? null, input.password))) {
      throw invalidInput({ password: 'is not your current password' });
    }
    return;
  }
  throw invalidInput({ otp: 'is required: a current code, a recovery code, or your password' });
}

/** Every MFA column back to "not enrolled". */
export function clearMfa(user: TUser): void {
  user.mfaSecret = null;
  user.mfaPendingSecret = null;
  user.mfaEnabledAt = null;
  user.mfaRecoveryCodes = null;
  user.mfaLastStep = null;
}
