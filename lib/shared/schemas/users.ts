import { z } from 'zod';
import { ZEntityMeta, ZId, ZText, ZVersion } from './common';

export const ZPassword = ZText('is required')
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters');
const ZUserName = ZText().trim().min(1, 'is required').max(200, 'is too long');

export const ZUserCreate = z.strictObject({
  email: z
    .email('must be an email address')
    .max(320)
    .transform((email) => email.toLowerCase()),
  password: ZPassword,
  name: ZUserName.optional(),
  accountId: ZId,
  groupId: z.uuid('is required: every user has exactly one group'),
});
export const ZUserPatch = z.strictObject({
  version: ZVersion,
  name: ZUserName.optional(),
  /** Never null: a user always has a group (400). */
  groupId: ZId.optional(),
  status: z.enum(['active', 'disabled']).optional(),
  /** An admin's reset: the user must change it at next sign-in. */
  password: ZPassword.optional(),
});
export const ZPasswordChange = z.strictObject({
  currentPassword: ZText('is required').min(1, 'is required'),
  newPassword: ZPassword,
});
export type TUserCreate = z.infer<typeof ZUserCreate>;
export type TUserPatch = z.infer<typeof ZUserPatch>;

export const ZUserDto = ZEntityMeta.extend({
  email: z.string(),
  name: z.string(),
  accountId: z.string(),
  groupId: z.string(),
  status: z.enum(['active', 'disabled']),
  mustChangePassword: z.boolean(),
  /** TOTP is on for this user (lib/server/auth/mfa.ts). */
  mfaEnabled: z.boolean(),
});
export type TUserDto = z.infer<typeof ZUserDto>;

/**
 * `GET /users/{id}/manageable`: whether the caller may reset, disable, enable, delete or
 * regroup the user (DESIGN §1 "Managing users"), and if not, why — itself (`self`) or
 * grants of the user's group the caller lacks (`escalation`, naming them).
 */
export const ZUserManageability = z.object({
  userId: z.string(),
  manageable: z.boolean(),
  reason: z.enum(['self', 'escalation']).nullable(),
  lacking: z.array(z.string()),
});
export type TUserManageability = z.infer<typeof ZUserManageability>;

/** Why a user has no access at all (deny by default, DESIGN §1). */
export const DENY_REASONS = {
  user_disabled: 'the user is disabled',
  account_suspended: 'its account or an account above it is suspended',
  no_group: 'it has no group',
  group_not_usable: 'its group belongs to no account at or above its own',
  no_grants: 'its group grants nothing',
  stale_session: 'its session has ended',
} as const;
export type TDenyReason = keyof typeof DENY_REASONS;

/** One section of what a user sees: up to `items.length` of `total`, or hidden from the viewer. */
export type TAccessSection<TItem> =
  | { total: number; items: TItem[] }
  /** The explained user has no read grant for it. */
  | { total: 0; items: []; notGranted: true }
  /** The viewer may not read this resource itself, so it is not shown the user's. */
  | { hiddenFrom: 'viewer'; grant: string };

/**
 * `GET /users/{id}/access`: the effective permissions of a user and the exact accounts
 * and cards it can see, answered by the same authorization module that answers the user.
 */
export interface TUserAccess {
  user: { id: string; email: string; name: string };
  account: { id: string; name: string; kind: string };
  /** Null when the group belongs above the caller and the caller may not see it. */
  group: { id: string; name: string } | null;
  /** The user must choose a new password at next sign-in before doing anything else. */
  mustChangePassword: boolean;
  /** Why the user may do nothing at all, or null. */
  denied: TDenyReason | null;
  /** Null when the group is hidden from the caller (see `group`). */
  grants: string[] | null;
  resellers: TAccessSection<{ id: string; name: string; parentId: string; status: string }>;
  customers: TAccessSection<{ id: string; name: string; parentId: string; status: string }>;
  cards: TAccessSection<{ id: string; name: string; kind: string; relation: string }>;
}
