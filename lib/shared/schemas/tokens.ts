import { z } from 'zod';
import { ZText } from './common';

export const ZTokenCreate = z.strictObject({
  email: ZText('is required').trim().min(1, 'is required').max(320),
  password: ZText('is required').min(1, 'is required').max(1024),
  /** Needed when the user has MFA on: a current code or an unused recovery code. */
  otp: ZText().trim().min(1, 'must not be empty').max(64).optional(),
  name: ZText().trim().min(1).max(120).default('API token'),
  expiresInDays: z
    .number()
    .int()
    .min(1, 'must be 1 to 365')
    .max(365, 'must be 1 to 365')
    .default(90),
});
export type TTokenCreate = z.infer<typeof ZTokenCreate>;

export const ZTokenDto = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type TTokenDto = z.infer<typeof ZTokenDto>;

/** Only the answer to `POST /auth/token` ever carries the secret. */
export const ZTokenIssued = ZTokenDto.extend({ token: z.string() });
export type TTokenIssued = z.infer<typeof ZTokenIssued>;
