import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Failed sign-ins per (email, client IP), shared by every server process: growing
 * delays, then a temporary lock (lib/server/auth/throttle.ts). A success clears it.
 * Indexed by `nextAllowedAt` for pruning expired rows.
 */
export const LoginThrottle = defineEntity({
  name: 'LoginThrottle',
  tableName: 'login_throttle',
  properties: {
    email: p.string().length(320).primary(),
    ip: p.string().length(64).primary(),
    failures: p.integer(),
    nextAllowedAt: p.datetime().index(),
    updatedAt: p.datetime(),
  },
});
export type TLoginThrottle = InferEntity<typeof LoginThrottle>;

/**
 * Failed sign-ins per client IP across all emails, in a fixed window: the budget against
 * password spraying (one guess at many emails slips past the per-pair curve).
 */
export const LoginIpThrottle = defineEntity({
  name: 'LoginIpThrottle',
  tableName: 'login_ip_throttle',
  properties: {
    ip: p.string().length(64).primary(),
    failures: p.integer(),
    windowEndsAt: p.datetime().index(),
    updatedAt: p.datetime(),
  },
});
export type TLoginIpThrottle = InferEntity<typeof LoginIpThrottle>;

/**
 * Failed sign-ins per email across addresses, in a fixed window: the budget against a
 * botnet guessing one account's password (each address stays under the pair curve and
 * its IP budget). An address the email signed in from lately (`LoginKnownAddress`) does
 * not spend it, so an attack on the account does not lock its person out.
 */
export const LoginAccountThrottle = defineEntity({
  name: 'LoginAccountThrottle',
  tableName: 'login_account_throttle',
  properties: {
    email: p.string().length(320).primary(),
    failures: p.integer(),
    windowEndsAt: p.datetime().index(),
    updatedAt: p.datetime(),
    /** The window whose spending its person was last told of (at most once a day). */
    pausedNoticeFor: p.datetime().nullable(),
  },
});
export type TLoginAccountThrottle = InferEntity<typeof LoginAccountThrottle>;

/** The addresses (as the throttle keys them) each email last signed in from, and when. */
export const LoginKnownAddress = defineEntity({
  name: 'LoginKnownAddress',
  tableName: 'login_known_address',
  properties: {
    email: p.string().length(320).primary(),
    ip: p.string().length(64).primary(),
    signedInAt: p.datetime().index(),
  },
});
export type TLoginKnownAddress = InferEntity<typeof LoginKnownAddress>;

/**
 * Wrong current passwords given to `POST /me/password`, per user, on the sign-in curve.
 * No foreign key: a deleted user's row is pruned like any other expired one.
 */
export const PasswordChangeThrottle = defineEntity({
  name: 'PasswordChangeThrottle',
  tableName: 'password_change_throttle',
  properties: {
    userId: p.uuid().primary(),
    failures: p.integer(),
    nextAllowedAt: p.datetime().index(),
    updatedAt: p.datetime(),
  },
});
export type TPasswordChangeThrottle = InferEntity<typeof PasswordChangeThrottle>;
