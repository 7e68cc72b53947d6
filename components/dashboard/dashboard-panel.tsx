'use client';

import { useQuery } from '@tanstack/react-query';
import { apiFetch } from '@/lib/client/api';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import type { TDashboardCounts } from '@/lib/shared/schemas/dashboard';
import { PanelSection } from '@/components/ui/panel-section';
import { AuditTable } from '@/components/audit/audit-panel';

const DASHBOARD_KEY = queryKeys.anyChange('dashboard');

const TILES: [keyof TDashboardCounts, string][] = [
  ['resellers', 'Resellers'],
  ['customers', 'Customers'],
  ['cards', 'Rate cards'],
  ['users', 'Users'],
];

/** Live counters of what this person sees, and the latest activity in their scope. */
export function DashboardPanel({ showActivity }: { showActivity: boolean }) {
  const counts = useQuery({
    queryKey: DASHBOARD_KEY,
    queryFn: () => apiFetch<TDashboardCounts>(pathOf(DASHBOARD_KEY)),
  });
  return (
    <div className="space-y-6">
      <ul className="grid grid-cols-2 gap-4 md:grid-cols-4" aria-label="Counters">
        {TILES.filter(([key]) => counts.data?.[key] !== null).map(([key, label]) => (
          <li key={key} className="rounded-lg border border-slate-200 bg-white p-4">
            <p className="text-xs uppercase tracking-wide text-slate-500">{label}</p>
            <p className="mt-1 text-2xl font-semibold text-slate-900" data-testid={`count-${key}`}>
              {counts.data ? counts.data[key] : '…'}
            </p>
          </li>
        ))}
      </ul>
      {showActivity ? (
        <PanelSection title="Recent activity">
          <AuditTable label="Recent activity" limit={15} />
        </PanelSection>
      ) : null}
    </div>
  );
}
