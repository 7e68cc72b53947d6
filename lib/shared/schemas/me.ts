import { z } from 'zod';
import { ZImpersonationInfo } from './impersonation';

export const ZMeDto = z.object({
  user: z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    mustChangePassword: z.boolean(),
  }),
  account: z.object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['carrier', 'reseller', 'customer']),
    /**
     * Its effective status. A viewer exists only while its account and every account
     * above it are active: a suspension ends its sessions (the next request is 401).
     */
    status: z.enum(['active', 'suspended']),
  }),
  group: z.object({ id: z.string(), name: z.string() }),
  grants: z.array(z.string()),
  /** MFA on for the caller; required by its group (then, until enrolled, only enrolment answers). */
  mfa: z.object({ enrolled: z.boolean(), required: z.boolean() }),
  impersonation: ZImpersonationInfo.nullable(),
});
export type TMeDto = z.infer<typeof ZMeDto>;
