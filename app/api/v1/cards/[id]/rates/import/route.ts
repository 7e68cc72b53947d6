import { apiRoute, json, readQuery } from '@/lib/server/api/handler';
import { idParam } from '@/lib/server/api/params';
import { ApiError } from '@/lib/server/api/errors';
import { invalidInput } from '@/lib/server/errors/domain-error';
import { importRates } from '@/lib/server/services/rates/replace-rates';
import { CSV_BODY_LIMIT, countedBody } from '@/lib/server/api/body-limit';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

/** Rows one import may hold (a 100k-prefix card and room to spare). */
const MAX_IMPORT_ROWS = 250_000;

export const POST = apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
  const id = idParam(params, 'card');
  const { mode, liveAt, version } = readQuery(
    req,
    API_REGISTRY['/cards/{id}/rates/import'].POST.query,
  );
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'text/csv') {
    throw new ApiError(415, 'unsupported_media_type', 'Send the rates as text/csv.', {
      fields: { 'content-type': 'must be text/csv' },
    });
  }
  if (!req.body) throw invalidInput({ body: 'is empty: a header row is required' });
  const body = countedBody(req.body as unknown as AsyncIterable<Uint8Array>, CSV_BODY_LIMIT);
  return json(
    await importRates(
      em,
      actor,
      id,
      body,
      mode,
      { maxRows: MAX_IMPORT_ROWS },
      liveAt ? new Date(liveAt) : null,
      version,
    ),
  );
});
