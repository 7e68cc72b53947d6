import { subAccountExportRoutes } from '@/lib/server/api/sub-account-routes';

export const dynamic = 'force-dynamic';
export const { GET } = subAccountExportRoutes('reseller');
