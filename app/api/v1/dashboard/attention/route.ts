import { apiRoute, json } from '@/lib/server/api/handler';
import { dashboardAttention } from '@/lib/server/services/dashboard/dashboard-attention';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ actor, em }) => json(await dashboardAttention(em, actor)));
