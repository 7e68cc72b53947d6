import { apiRidingRoute, json } from '@/lib/server/api/handler';
import {
  lookupInput,
  lookupRates,
  lookupStatement,
  type TLookupRow,
} from '@/lib/server/services/lookup/lookup-rates';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

/** The lookup's one statement rides with a bearer token's check (one round trip). */
export const GET = apiRidingRoute<
  (typeof API_REGISTRY)['/rates/lookup']['GET']['query'],
  TLookupRow | null
>(
  {
    query: API_REGISTRY['/rates/lookup'].GET.query,
    statement: (query, callerPath) => lookupStatement(callerPath, lookupInput(query)),
  },
  async ({ actor, em, body, ridden }) => json(await lookupRates(em, actor, body, ridden)),
);
