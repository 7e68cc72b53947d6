import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { versionedTimestamps } from './common';
import { Account } from './account.entity';

/**
 * A named set of grants owned by an account (DESIGN §1). Users of the owning account and
 * of its descendants may use it; grants come from lib/shared/permissions.ts only.
 */
export const Group = defineEntity({
  name: 'Group',
  tableName: 'user_group',
  uniques: [{ properties: ['account', 'name'] }],
  properties: {
    id: p.uuid().primary(),
    account: () => p.manyToOne(Account).deleteRule('restrict').index(),
    name: p.string().length(120),
    grants: p.array(),
    template: p.string().length(60).nullable(),
    /** Its users must use MFA: until enrolled, they reach only the enrolment screen. */
    requireMfa: p.boolean().default(false),
    ...versionedTimestamps(),
  },
});

export type TGroup = InferEntity<typeof Group>;
