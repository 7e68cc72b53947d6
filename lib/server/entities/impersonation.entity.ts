import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * A support user viewing the panel as another user (DESIGN §1): read-only, always;
 * time-limited; at most one open per impersonator. Ended rows stay as history.
 */
export const Impersonation = defineEntity({
  name: 'Impersonation',
  tableName: 'impersonation',
  properties: {
    id: p.uuid().primary(),
    impersonatorUserId: p.uuid().index(),
    targetUserId: p.uuid(),
    reason: p.string().length(500),
    startedAt: p.datetime(),
    expiresAt: p.datetime(),
    endedAt: p.datetime().nullable(),
  },
});
export type TImpersonation = InferEntity<typeof Impersonation>;
