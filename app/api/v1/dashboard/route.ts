import { apiRoute, json } from '@/lib/server/api/handler';
import { dashboardCounts } from '@/lib/server/services/dashboard/dashboard-counts';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ actor, em }) => json(await dashboardCounts(em, actor)));
