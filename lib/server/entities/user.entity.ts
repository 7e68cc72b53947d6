import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { versionedTimestamps } from './common';
import { Account } from './account.entity';
import { Group } from './group.entity';

export const USER_STATUSES = ['active', 'disabled'] as const;

/**
 * A person who signs in. Exactly one account and exactly one group: `group_id` is NOT
 * NULL with a restricting foreign key, so a group-less user cannot exist (the hazard of
 * the panel we replace). `sessionVersion` is stamped into every session; bumping it
 * kills every cookie and socket of the user at once.
 */
export const User = defineEntity({
  name: 'User',
  tableName: 'app_user',
  // Emails are compared lower-cased; storing them so keeps the unique index honest.
  checks: [{ name: 'app_user_email_lower_check', expression: 'email = lower(email)' }],
  properties: {
    id: p.uuid().primary(),
    account: () => p.manyToOne(Account).deleteRule('restrict').index(),
    group: () => p.manyToOne(Group).deleteRule('restrict').index(),
    email: p.string().length(320).unique(),
    name: p.string().length(200),
    passwordHash: p.text().lazy(true, false),
    status: p.enum([...USER_STATUSES]).default('active'),
    mustChangePassword: p.boolean().default(false),
    sessionVersion: p.integer().default(1),
    // To the millisecond, as a list's cursor holds it (the users list sorts by it).
    lastLoginAt: p.datetime(3).nullable(),
    // MFA (lib/server/auth/mfa.ts): secrets encrypted, recovery codes as keyed hashes;
    // lazy, so no ordinary read of a user carries them.
    mfaSecret: p.text().nullable().lazy(true, false),
    mfaPendingSecret: p.text().nullable().lazy(true, false),
    mfaEnabledAt: p.datetime().nullable(),
    mfaRecoveryCodes: p.array().nullable().lazy(true, false),
    /** The last TOTP time step accepted: a code is never accepted twice. */
    mfaLastStep: p.integer().nullable(),
    ...versionedTimestamps(),
  },
});

export type TUser = InferEntity<typeof User>;
