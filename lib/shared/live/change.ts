import { z } from 'zod';

/** The resources whose changes travel live (DESIGN §3 resource names). */
export const LIVE_RESOURCES = ['resellers', 'customers', 'users', 'groups'] as const;
export type TLiveResource = (typeof LIVE_RESOURCES)[number];

export const CHANGE_KINDS = ['created', 'updated', 'deleted', 'added', 'removed'] as const;

const ZNamedActor = z.union([
  z.object({ kind: z.literal('user'), id: z.string(), name: z.string(), email: z.string() }),
  z.object({ kind: z.literal('account'), name: z.string() }),
]);

/**
 * One change as a viewer receives it, live (`change`) or in catch-up (`GET /events`):
 * `<resource>.created|updated|deleted` while the entity stays in view, `.added` when it
 * enters it (full data), `.removed` when it leaves it (only `{ id }`).
 */
export const ZChangeEnvelope = z.object({
  seq: z.number().int().positive(),
  type: z.templateLiteral([z.enum(LIVE_RESOURCES), '.', z.enum(CHANGE_KINDS)]),
  id: z.string(),
  data: z.record(z.string(), z.unknown()),
  at: z.string(),
  actor: ZNamedActor,
});
export type TChangeEnvelope = z.infer<typeof ZChangeEnvelope>;
