import { z } from 'zod';

/** `GET /dashboard`: how many of each the caller sees; null where its group grants no read. */
export const ZDashboardCounts = z.object({
  resellers: z.number().int().nullable(),
  customers: z.number().int().nullable(),
  users: z.number().int().nullable(),
  cards: z.number().int().nullable(),
});
export type TDashboardCounts = z.infer<typeof ZDashboardCounts>;
