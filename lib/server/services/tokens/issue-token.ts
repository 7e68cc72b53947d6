import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiToken, User } from '@/lib/server/entities';
import { DomainError } from '@/lib/server/errors/domain-error';
import { authenticate } from '@/lib/server/auth/login';
import { newTokenSecret } from '@/lib/server/auth/api-token';
import { markSignedIn } from '@/lib/server/auth/sessions';
import { resolveActor } from '@/lib/server/authz/actor';
import type { TLoginThrottlePolicy } from '@/lib/server/auth/throttle';
import { mutate } from '@/lib/server/live/change-log';
import type { TTokenCreate, TTokenIssued } from '@/lib/shared/schemas/tokens';
import { toTokenDto } from './token-dto';

/**
 * `POST /auth/token`: email + password → a bearer token with the user's exact rights.
 * Same checks, throttle and uniform refusal as the sign-in form, MFA code included: a
 * token issued after the code was checked keeps working without one (for scripts).
 */
export async function issueToken(
  em: EntityManager,
  /** `portalPath`: asked on a brand's hostname, only its subtree (`authenticate`). */
  input: TTokenCreate & { ip: string; portalPath?: string | null },
  policy: TLoginThrottlePolicy,
): Promise<TTokenIssued> {
  const login = await authenticate(em, input, policy);
  if (!login.ok && login.reason === 'throttled') {
    throw new DomainError('throttled', 'throttled', 'Too many failed attempts; try again later.', {
      retryAfterSeconds: login.retryAfterSeconds,
    });
  }
  if (!login.ok && login.reason === 'otp_required') {
    throw new DomainError(
      'unauthenticated',
      'otp_required',
      'This user has MFA on: send `otp` too.',
    );
  }
  if (!login.ok && login.reason === 'otp_invalid') {
    throw new DomainError(
      'unauthenticated',
      'otp_invalid',
      'The code is wrong or was used already.',
    );
  }
  if (!login.ok)
    throw new DomainError('unauthenticated', 'invalid_credentials', 'Wrong email or password.');
  const actor = await resolveActor(em, {
    userId: login.claims.sub,
    sessionVersion: login.claims.sv,
  });
  if (!actor)
    throw new DomainError('unauthenticated', 'invalid_credentials', 'Wrong email or password.');
  // Held at enrolment, a token would be issued on the password alone and, kept through
  // the enrolment that follows (tokens stay: own-mfa.ts), answer without a code from
  // then on — a phished password turned into a lasting credential. Enrol first (in the
  // panel); the token then asks the code like any sign-in.
  if (actor.mfa.required && !actor.mfa.enrolled) {
    throw new DomainError(
      'forbidden',
      'mfa_enrolment_required',
      'Your group requires MFA: turn it on first (Account security in the panel), then ask for a token with its code as `otp`.',
    );
  }

  const { token, hash } = newTokenSecret();
  const expiresAt = new Date(Date.now() + input.expiresInDays * 24 * 60 * 60 * 1000);
  const issued = mutate(em, actor, async (tx, record) => {
    // Only while the user's row is still as the sign-in checked it (`markSignedIn`).
    const still = await markSignedIn(tx, {
      userId: actor.userId,
      verifiedHash: login.passwordHash,
      mfaChecked: login.mfaChecked,
    });
    if (!still)
      throw new DomainError('unauthenticated', 'invalid_credentials', 'Wrong email or password.');
    const row = tx.create(ApiToken, {
      id: crypto.randomUUID(),
      user: tx.getReference(User, actor.userId),
      name: input.name,
      tokenHash: hash,
      sessionVersion: actor.sessionVersion,
      expiresAt,
    });
    await tx.flush();
    const dto = toTokenDto(row);
    record({
      resource: 'tokens',
      entityId: row.id,
      op: 'created',
      version: null,
      before: null,
      // A sign-in too (its password, and code, checked): where from, as a session's.
      after: { ...dto, ip: input.ip.slice(0, 64), mfa: login.mfaChecked },
      scopeBefore: null,
      scopeAfter: actor.account.path,
    });
    return { ...dto, token };
  });
  // Disabled or regrouped while this was checked: the uniform refusal, as the sign-in
  // form gives (sessions.ts), not "nothing was saved", which would say the password was
  // right.
  return issued.catch((error: unknown) => {
    if (error instanceof DomainError && error.code === 'access_changed') {
      throw new DomainError('unauthenticated', 'invalid_credentials', 'Wrong email or password.');
    }
    throw error;
  });
}
