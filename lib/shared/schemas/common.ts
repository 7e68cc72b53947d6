import { z } from 'zod';

/** Opaque ids (uuids today): the same in REST and in events. */
export const ZId = z.uuid('must be an id');

/** Money travels as a decimal string, never a JSON number (DESIGN §3). */
export const ZMoney = z
  .string('must be a decimal string such as "12.50"')
  .trim()
  .regex(/^\d{1,12}(\.\d{1,6})?$/, 'must be a decimal string such as "12.50" (up to 6 decimals)');

export const ZVersion = z.number('is required').int().positive();

export const ZPageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, 'must be 1 to 500')
    .max(500, 'must be 1 to 500')
    .default(50),
  cursor: z.string().max(200).optional(),
});

export interface TPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Fields every entity carries. */
export const ZEntityMeta = z.object({
  id: z.string(),
  version: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type TEntityMeta = z.infer<typeof ZEntityMeta>;

/** A page of a list: `{ items, nextCursor }`. */
export function ZPageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** The error body of every non-2xx answer (DESIGN §3). */
export const ZErrorBody = z.object({
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      fields: z.record(z.string(), z.string()).optional(),
      current: z.unknown().optional(),
      dependants: z
        .array(z.object({ resource: z.string(), id: z.string(), name: z.string() }))
        .optional(),
    })
    .loose(),
});
