import { z } from 'zod';
import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { marginReport } from '@/lib/server/services/cards/margin-report';
import { ZText } from '@/lib/shared/schemas/common';

export const dynamic = 'force-dynamic';

const ZMarginQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, 'must be 1 to 500')
    .max(500, 'must be 1 to 500')
    .default(100),
  cursor: ZText().max(40).optional(),
});

export const GET = apiRoute<{ id: string }>(async ({ req, params, actor, em }) =>
  json(await marginReport(em, actor, idParam(params, 'card'), readQuery(req, ZMarginQuery))),
);
