import { subAccountBulkRoutes } from '@/lib/server/api/sub-account-routes';

export const dynamic = 'force-dynamic';
export const { POST } = subAccountBulkRoutes('customer');
