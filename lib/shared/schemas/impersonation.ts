import { z } from 'zod';
import { ZId, ZText } from './common';

export const ZImpersonationStart = z.strictObject({
  userId: ZId,
  // Free text: it may span lines.
  reason: ZText('is required', { multiline: true })
    .trim()
    .min(3, 'must say why (at least 3 characters)')
    .max(500),
});
export type TImpersonationStart = z.infer<typeof ZImpersonationStart>;

/** `POST /impersonation`: the view begun, whom it shows and until when. */
export const ZImpersonationStarted = z.object({
  id: z.string(),
  targetUserId: z.string(),
  expiresAt: z.string(),
});
export type TImpersonationStarted = z.infer<typeof ZImpersonationStarted>;

/** What a session viewing as someone else knows about it (in `/me` and `hello`). */
export const ZImpersonationInfo = z.object({
  id: z.string(),
  impersonator: z.object({ id: z.string(), name: z.string(), email: z.string() }),
  reason: z.string(),
  expiresAt: z.string(),
});
export type TImpersonationInfo = z.infer<typeof ZImpersonationInfo>;
