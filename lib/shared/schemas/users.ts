import { z } from 'zod';
import { ZEntityMeta, ZId, ZVersion } from './common';

export const ZPassword = z
  .string('is required')
  .min(12, 'must be at least 12 characters')
  .max(256, 'must be at most 256 characters');
const ZUserName = z.string().trim().min(1, 'is required').max(200, 'is too long');

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
  currentPassword: z.string('is required').min(1, 'is required'),
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
});
export type TUserDto = z.infer<typeof ZUserDto>;
