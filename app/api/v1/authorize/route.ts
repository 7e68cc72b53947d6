import { apiRidingRoute, json } from '@/lib/server/api/handler';
import {
  authorizeCall,
  authorizeStatement,
  type TAuthorizeLevel,
} from '@/lib/server/services/calls/authorize-call';
import { API_REGISTRY } from '@/lib/server/api/registry';

export const dynamic = 'force-dynamic';

/** In a switch's call path: the decision's statement rides with the token's check. */
export const POST = apiRidingRoute<
  (typeof API_REGISTRY)['/authorize']['POST']['body'],
  TAuthorizeLevel[] | null
>(
  {
    body: API_REGISTRY['/authorize'].POST.body,
    statement: (body, callerPath) => authorizeStatement(callerPath, body),
  },
  async ({ actor, em, body, ridden }) => json(await authorizeCall(em, actor, body, ridden)),
);
