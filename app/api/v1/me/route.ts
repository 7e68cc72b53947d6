import { apiRoute, json } from '@/lib/server/api/handler';
import { toMeDto } from '@/lib/server/services/me/me-dto';

export const dynamic = 'force-dynamic';

export const GET = apiRoute(async ({ actor }) => json(toMeDto(actor)), {
  beforePasswordChange: true,
  beforeMfaEnrolment: true,
});
