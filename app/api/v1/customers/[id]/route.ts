import { subAccountItemRoutes } from '@/lib/server/api/sub-account-routes';

export const dynamic = 'force-dynamic';
export const { GET, PATCH, DELETE } = subAccountItemRoutes('customer');
