import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * A support user viewing the panel as another user (DESIGN §1): read-only, always;
 * time-limited; at most one open per impersonator, and it applies only to the credential
 * that started it (`sessionId` or `tokenId`: the person's other sessions and tokens act as
 * the person). Ended rows stay as history.
 */
export const Impersonation = defineEntity({
  name: 'Impersonation',
  tableName: 'impersonation',
  checks: [
    {
      name: 'impersonation_one_credential',
      expression: '((session_id IS NULL) OR (token_id IS NULL))',
    },
  ],
  properties: {
    id: p.uuid().primary(),
    impersonatorUserId: p.uuid().index(),
    targetUserId: p.uuid(),
    sessionId: p.uuid().nullable(),
    tokenId: p.uuid().nullable(),
    reason: p.string().length(500),
    startedAt: p.datetime(),
    expiresAt: p.datetime(),
    endedAt: p.datetime().nullable(),
  },
});
export type TImpersonation = InferEntity<typeof Impersonation>;
