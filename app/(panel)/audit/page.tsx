import { AuditPanel } from '@/components/audit/audit-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  await requirePageActor();
  return <AuditPanel />;
}
