import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './user.entity';

/**
 * A bearer token for scripts (DESIGN §3). Only a SHA-256 of the secret is stored. It acts
 * with exactly its user's rights and carries the user's session version from when it
 * was made: a group change, disabling or a reset bumps that version and kills it, and
 * deleting the user deletes it.
 */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_token',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    name: p.string().length(120),
    tokenHash: p.string().length(64).unique(),
    sessionVersion: p.integer(),
    expiresAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type TApiToken = InferEntity<typeof ApiToken>;
