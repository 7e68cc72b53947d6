'use client';

import { usePagedList } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import type { TCustomerDto, TResellerDto } from '@/lib/shared/schemas/accounts';
import type { TAssignmentDto, TCardDto } from '@/lib/shared/schemas/cards';
import type { TUserDto } from '@/lib/shared/schemas/users';
import { ListState } from '@/components/ui/field';
import { DataTable, PanelSection } from '@/components/ui/panel-section';
import { DetailActions } from '@/components/live/detail-actions';

/**
 * One reseller at a glance: its company, its people, the cards it holds (its provider
 * cards), its customers and sub-resellers — each a live list filtered by the server.
 */
export function ResellerDetail({
  reseller,
  onClose,
}: {
  reseller: TResellerDto;
  onClose: () => void;
}) {
  const users = usePagedList<TUserDto>(queryKeys.list('users', { accountId: reseller.id }));
  const held = usePagedList<TAssignmentDto>(
    queryKeys.list('assignments', { accountId: reseller.id }),
  );
  const cards = usePagedList<TCardDto>(queryKeys.list('cards'));
  const customers = usePagedList<TCustomerDto>(
    queryKeys.list('customers', { parentId: reseller.id }),
  );
  const subResellers = usePagedList<TResellerDto>(
    queryKeys.list('resellers', { parentId: reseller.id }),
  );
  const cardNames = new Map((cards.data ?? []).map((card) => [card.id, card.name]));
  const section = <T,>(
    title: string,
    list: { data?: T[]; isLoading: boolean; error: unknown },
    headers: string[],
    row: (item: T) => React.ReactNode[],
  ) => (
    <div>
      <h3 className="mb-2 text-sm font-semibold text-slate-700">{title}</h3>
      <ListState
        isLoading={list.isLoading}
        error={list.error}
        empty={(list.data ?? []).length === 0}
      >
        <DataTable
          label={`${title} of ${reseller.name}`}
          headers={headers}
          rows={(list.data ?? []).map(row)}
        />
      </ListState>
    </div>
  );
  return (
    <PanelSection
      title={`Reseller: ${reseller.name}`}
      reveal
      actions={
        <DetailActions topic={`resellers:${reseller.id}`} label="viewing" onClose={onClose} />
      }
    >
      <dl className="mb-4 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
        <dt className="text-slate-500">Company</dt>
        <dd>{reseller.name}</dd>
        <dt className="text-slate-500">Email</dt>
        <dd>{reseller.email ?? '—'}</dd>
        <dt className="text-slate-500">Status</dt>
        <dd>{reseller.status}</dd>
        <dt className="text-slate-500">Level</dt>
        <dd>{reseller.depth}</dd>
      </dl>
      <div className="grid gap-6 md:grid-cols-2">
        {section('Users', users, ['Email', 'Name', 'Status'], (user) => [
          user.email,
          user.name,
          user.status,
        ])}
        {section('Provider cards', held, ['Card'], (assignment) => [
          cardNames.get(assignment.cardId) ?? assignment.cardId,
        ])}
        {section('Customers', customers, ['Name', 'Status'], (customer) => [
          customer.name,
          customer.status,
        ])}
        {section('Sub-resellers', subResellers, ['Company', 'Status'], (sub) => [
          sub.name,
          sub.status,
        ])}
      </div>
    </PanelSection>
  );
}
