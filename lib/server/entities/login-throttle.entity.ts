import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Failed sign-ins per (email, client IP), shared by every server process: growing
 * delays, then a temporary lock (lib/server/auth/throttle.ts). A success clears it.
 */
export const LoginThrottle = defineEntity({
  name: 'LoginThrottle',
  tableName: 'login_throttle',
  properties: {
    email: p.string().length(320).primary(),
    ip: p.string().length(64).primary(),
    failures: p.integer(),
    nextAllowedAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type TLoginThrottle = InferEntity<typeof LoginThrottle>;
