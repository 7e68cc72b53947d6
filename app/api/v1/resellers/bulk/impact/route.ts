import { subAccountBulkImpactRoutes } from '@/lib/server/api/sub-account-routes';

export const dynamic = 'force-dynamic';
export const { POST } = subAccountBulkImpactRoutes('reseller');
