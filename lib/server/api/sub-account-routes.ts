import { getRuntime } from '@/lib/server/runtime';
import type { TSubAccountKind } from '@/lib/server/services/accounts/account-scope';
import { listSubAccounts } from '@/lib/server/services/accounts/list-sub-accounts';
import { getSubAccount } from '@/lib/server/services/accounts/get-sub-account';
import { createSubAccount } from '@/lib/server/services/accounts/create-sub-account';
import { updateSubAccount } from '@/lib/server/services/accounts/update-sub-account';
import { deleteSubAccount } from '@/lib/server/services/accounts/delete-sub-account';
import { exportSubAccounts } from '@/lib/server/services/accounts/export-sub-accounts';
import { csvHeaders } from '@/lib/server/services/csv';
import { downloadOf } from './download';
import { setSubAccountsStatus } from '@/lib/server/services/accounts/bulk-status';
import { bulkImpact } from '@/lib/server/services/accounts/bulk-impact';
import { apiRoute, json, noContent, readBody, readQuery } from './handler';
import { idParam } from './params';
import { API_REGISTRY } from './registry';

/** The registry's entries of each kind: the schemas its handlers validate with. */
const ROUTES = {
  reseller: {
    collection: API_REGISTRY['/resellers'],
    item: API_REGISTRY['/resellers/{id}'],
    export: API_REGISTRY['/resellers/export'],
    bulk: API_REGISTRY['/resellers/bulk'],
    impact: API_REGISTRY['/resellers/bulk/impact'],
  },
  customer: {
    collection: API_REGISTRY['/customers'],
    item: API_REGISTRY['/customers/{id}'],
    export: API_REGISTRY['/customers/export'],
    bulk: API_REGISTRY['/customers/bulk'],
    impact: API_REGISTRY['/customers/bulk/impact'],
  },
} as const;

/** /api/v1/resellers/export and /customers/export: the list as CSV. */
export function subAccountExportRoutes(kind: TSubAccountKind) {
  return {
    GET: apiRoute(async ({ req, actor, em, credential }) => {
      const query = readQuery(req, ROUTES[kind].export.GET.query);
      const download = downloadOf({ em, actor, credential });
      return new Response(exportSubAccounts(em, actor, kind, query, download), {
        headers: csvHeaders(`${kind}s.csv`),
      });
    }),
  };
}

/** /api/v1/resellers/bulk and /customers/bulk: suspend or resume several, all or nothing. */
export function subAccountBulkRoutes(kind: TSubAccountKind) {
  return {
    POST: apiRoute(async ({ req, actor, em }) => {
      const body = await readBody(req, ROUTES[kind].bulk.POST.body);
      return json(await setSubAccountsStatus(em, actor, kind, body));
    }),
  };
}

/** /api/v1/resellers/bulk/impact and /customers/bulk/impact: what a suspend would reach. */
export function subAccountBulkImpactRoutes(kind: TSubAccountKind) {
  return {
    POST: apiRoute(async ({ req, actor, em }) => {
      const body = await readBody(req, ROUTES[kind].impact.POST.body);
      return json(await bulkImpact(em, actor, kind, body.ids));
    }),
  };
}

/** /api/v1/resellers and /api/v1/customers: the same handlers, one kind each. */
export function subAccountCollectionRoutes(kind: TSubAccountKind) {
  return {
    GET: apiRoute(async ({ req, actor, em }) =>
      json(
        await listSubAccounts(em, actor, kind, readQuery(req, ROUTES[kind].collection.GET.query)),
      ),
    ),
    POST: apiRoute(async ({ req, actor, em }) => {
      const body = await readBody(req, ROUTES[kind].collection.POST.body);
      const { resellerDepthLimit } = getRuntime().config;
      return json(await createSubAccount(em, actor, kind, body, { resellerDepthLimit }), 201);
    }),
  };
}

/** /api/v1/resellers/{id} and /api/v1/customers/{id}. A malformed id is simply not found. */
export function subAccountItemRoutes(kind: TSubAccountKind) {
  const idOf = (params: { id: string }) => idParam(params, kind);
  return {
    GET: apiRoute<{ id: string }>(async ({ params, actor, em }) =>
      json(await getSubAccount(em, actor, kind, idOf(params))),
    ),
    PATCH: apiRoute<{ id: string }>(async ({ req, params, actor, em }) => {
      const id = idOf(params);
      const body = await readBody(req, ROUTES[kind].item.PATCH.body);
      return json(await updateSubAccount(em, actor, kind, id, body));
    }),
    DELETE: apiRoute<{ id: string }>(async ({ params, actor, em }) => {
      await deleteSubAccount(em, actor, kind, idOf(params));
      return noContent();
    }),
  };
}
