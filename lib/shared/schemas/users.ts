import { z } from 'zod';
import {
  ZEmailAddress,
  ZEntityMeta,
  ZId,
  ZPageQuery,
  ZSort,
  ZNameText,
  ZText,
  ZVersion,
} from './common';

export const ZPassword = ZText('is required')
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters')
  // Twelve spaces, or one key held down, are twelve characters and no secret.
  .refine((value) => value.trim().length >= 12, 'must have at least 12 characters besides spaces')
  .refine((value) => new Set(value).size > 1, 'must not be one character repeated');
const ZUserName = ZNameText(200);

/** The email field's message when another user has it (the check, and its constraint). */
export const EMAIL_TAKEN = 'is taken by another user';

export const ZUserCreate = z.strictObject({
  email: ZEmailAddress,
  password: ZPassword,
  name: ZUserName.optional(),
  accountId: ZId,
  groupId: z.uuid('is required: every user has exactly one group').toLowerCase(),
});
export const ZUserPatch = z.strictObject({
  version: ZVersion,
  name: ZUserName.optional(),
  /** Never null: a user always has a group (400). */
  groupId: ZId.optional(),
  status: z.enum(['active', 'disabled']).optional(),
  /** An admin's reset: the user must change it at next sign-in. */
  password: ZPassword.optional(),
  /** A login corrected (a typo at creation): another user's is 409 `email_taken`. */
  email: ZEmailAddress.optional(),
});
export const ZPasswordChange = z.strictObject({
  currentPassword: ZText('is required').min(1, 'is required'),
  newPassword: ZPassword,
});
export type TUserCreate = z.infer<typeof ZUserCreate>;
export type TUserPatch = z.infer<typeof ZUserPatch>;
/** `lastSignInAt`: those never signed in last going up, first going down (NULLs as PostgreSQL sorts them). */
export const USER_SORT_KEYS = ['name', 'email', 'status', 'createdAt', 'lastSignInAt'] as const;
/** `GET /users`: by account, a search on name and email, a sort. */
export const ZUserListQuery = ZPageQuery.extend({
  accountId: ZId.optional(),
  /**
   * The members of one group, among the users in scope (a group's id tells nothing the
   * users' own `groupId` does not: no group the caller may not read is looked up).
   */
  groupId: ZId.optional(),
  /** Only the active, or only the disabled (the user's own status). */
  status: z.enum(['active', 'disabled'], 'must be "active" or "disabled"').optional(),
  q: ZText().trim().max(200).optional(),
  sort: ZSort(USER_SORT_KEYS),
});

export const ZUserDto = ZEntityMeta.extend({
  email: z.string(),
  name: z.string(),
  accountId: z.string(),
  /** The account's name: in the user's own DTO, so no list needs the account's page. */
  accountName: z.string(),
  groupId: z.string(),
  status: z.enum(['active', 'disabled']),
  mustChangePassword: z.boolean(),
  /** TOTP is on for this user (lib/server/auth/mfa.ts). */
  mfaEnabled: z.boolean(),
  /**
   * When the user's password was last accepted (a sign-in, a token issued); null: never.
   * Not an edit of the user: its `version` stays, and those who read the user hear of it
   * live as a `users.refetch` signal (reason `sign_in`).
   */
  lastSignInAt: z.string().nullable(),
});
export type TUserDto = z.infer<typeof ZUserDto>;

/**
 * `GET /users/{id}/manageable`: whether the caller may reset, disable, enable, delete or
 * regroup the user (DESIGN §1 "Managing users"), and if not, why — itself (`self`) or
 * grants of the user's group the caller lacks (`escalation`, naming them — none when the
 * caller may not read that group: `GET /groups/{id}` would be 404).
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
function ZAccessSection<TItem extends z.ZodType>(item: TItem) {
  // The narrower shapes first: a union answers with the first that parses.
  return z.union([
    /** The explained user has no read grant for it. */
    // An empty list: a tuple of nothing would be `prefixItems: []`, invalid JSON Schema.
    z.object({ total: z.literal(0), items: z.array(item).max(0), notGranted: z.literal(true) }),
    /** The viewer may not read this resource itself, so it is not shown the user's. */
    z.object({ hiddenFrom: z.literal('viewer'), grant: z.string() }),
    /**
     * The user's group is not shown to the viewer (`group: null`): neither are its grants,
     * so nor what they let the user see — a list or its absence would tell them.
     */
    z.object({ hiddenFrom: z.literal('group') }),
    z.object({ total: z.number().int(), items: z.array(item) }),
  ]);
}
export type TAccessSection<TItem> =
  | { total: number; items: TItem[] }
  | { total: 0; items: []; notGranted: true }
  | { hiddenFrom: 'viewer'; grant: string }
  | { hiddenFrom: 'group' };

const ZAccessAccount = z.object({
  id: z.string(),
  name: z.string(),
  parentId: z.string(),
  status: z.string(),
});

/**
 * `GET /users/{id}/access`: the effective permissions of a user and the exact accounts
 * and cards it can see, answered by the same authorization module that answers the user.
 */
export const ZUserAccess = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  account: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
  /** Null when the group belongs above the caller and the caller may not see it. */
  group: z.object({ id: z.string(), name: z.string() }).nullable(),
  /** The user must choose a new password at next sign-in before doing anything else. */
  mustChangePassword: z.boolean(),
  /** Why the user may do nothing at all, or null. */
  denied: z.enum(Object.keys(DENY_REASONS) as [TDenyReason, ...TDenyReason[]]).nullable(),
  /** Null when the group is hidden from the caller (see `group`). */
  grants: z.array(z.string()).nullable(),
  resellers: ZAccessSection(ZAccessAccount),
  customers: ZAccessSection(ZAccessAccount),
  cards: ZAccessSection(
    z.object({ id: z.string(), name: z.string(), kind: z.string(), relation: z.string() }),
  ),
});
export type TUserAccess = z.infer<typeof ZUserAccess>;
