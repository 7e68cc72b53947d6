'use client';

import { useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { type TPageOf } from '@/lib/client/api';
import { useJoinedFetch } from '@/lib/client/use-resource';
import {
  pathOf,
  queryKeys,
  sameListBesidesSearch,
  searchOf,
  type TFilter,
} from '@/lib/client/query-keys';
import type { TAuditEntryDto } from '@/lib/shared/schemas/audit';
import { LOGGED_RESOURCES } from '@/lib/shared/schemas/audit';
import { resourceLabel } from '@/lib/shared/activity-sentence';
import { ListState, LoadMore, SelectField, TextField } from '@/components/ui/field';
import { RecordPicker, USERS_SOURCE } from '@/components/pickers/record-picker';
import {
  dayRangeOf,
  DayRangeFields,
  FilterActions,
  FilterInError,
} from '@/components/ui/filter-form';
import { DataTable, ListCount, PanelSection } from '@/components/ui/panel-section';
import { RelativeTime } from '@/components/ui/relative-time';
import { useAddressState } from '@/lib/client/address-state';
import type { TComboOption } from '@/components/ui/combobox';
import { ActivitySentence, AuditDiff } from './activity-entry';

/**
 * The change log as the viewer may see it (DESIGN §1 "Audit"), newest first, refetched
 * after every live change; `filters` narrow it on the server. The full log (more than a
 * feed's 20 rows) shows its total and sorts by time or resource on the server.
 */
export function AuditTable({
  filters = {},
  limit = 50,
  label,
}: {
  filters?: TFilter;
  limit?: number;
  label: string;
}) {
  const [sort, setSort] = useState<string | undefined>(undefined);
  // The full log shows each update's changed fields; the overview's feed only the sentence.
  const full = limit > 20;
  // The page size is part of the key: the overview's short feed is not the full log.
  const key = queryKeys.anyChange('audit', {
    filter: { ...filters, limit: String(limit), sort: full ? sort : undefined },
  });
  const joinedFetch = useJoinedFetch();
  const audit = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam, signal }) =>
      joinedFetch<TPageOf<TAuditEntryDto>>(pathOf(key, { cursor: pageParam || undefined }), {
        signal,
      }),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // Another sort of the same log keeps its rows on screen until it lands; never
    // another filter's or another identity's rows.
    placeholderData: (previous, previousQuery) =>
      previousQuery && sameListBesidesSearch(previousQuery.queryKey, key) ? previous : undefined,
  });
  const items = audit.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <ListState
      isLoading={audit.isLoading}
      error={audit.error}
      empty={items.length === 0}
      emptyText={Object.values(filters).some(Boolean) ? 'Nothing in this selection.' : undefined}
      onRetry={() => audit.refetch()}
    >
      {full ? (
        <ListCount
          shown={items.length}
          total={audit.data?.pages[0]?.total}
          updating={audit.isPlaceholderData && audit.isFetching}
        />
      ) : null}
      <DataTable
        label={label}
        // Unsorted is newest first: the time column says so.
        sort={full ? { value: sort ?? '-at', onChange: setSort } : undefined}
        headers={
          full
            ? [
                { label: 'When', sort: 'at' },
                { label: 'Resource', sort: 'resource' },
                'What happened',
                'Changes',
              ]
            : ['When', 'What happened']
        }
        rows={items.map((entry) => [
          <RelativeTime key="at" at={entry.at} />,
          ...(full ? [resourceLabel(entry.resource)] : []),
          <ActivitySentence key="what" entry={entry} />,
          ...(full ? [<AuditDiff key="diff" entry={entry} />] : []),
        ])}
      />
      {full ? <LoadMore list={audit} /> : null}
    </ListState>
  );
}

/** An entity id as the filter takes one (the API checks it again). */
const isEntityId = (value: string) => /^[0-9a-f-]{36}$/i.test(value);

/** The filters as the page's address keeps them (an entity only once it is an id). */
function auditAddress(filters: TAuditFilters): string {
  return searchOf({
    resource: filters.resource || undefined,
    op: filters.op || undefined,
    entity: isEntityId(filters.entityId) ? filters.entityId : undefined,
    actor: filters.actorId || undefined,
    from: filters.fromDay || undefined,
    to: filters.toDay || undefined,
  });
}

export const NO_AUDIT_FILTERS = {
  resource: '',
  op: '',
  entityId: '',
  actorId: '',
  fromDay: '',
  toDay: '',
};
export type TAuditFilters = typeof NO_AUDIT_FILTERS;

/**
 * The audit page: the whole trail in scope, by resource, operation, entity, person
 * (`pickPeople`: only a viewer the audit names people to may pick one) and days in the
 * viewer's time zone, and the same selection as a CSV download. The filters start from
 * the address (`initial`; `person`: the one it names, as the picker shows it) and are
 * kept there, so a reload or a shared link shows the same selection.
 */
export function AuditPanel({
  pickPeople,
  initial = NO_AUDIT_FILTERS,
  person = null,
  rendered,
}: {
  pickPeople: boolean;
  initial?: TAuditFilters;
  person?: TComboOption | null;
  /** New with each server render of the page (`useAddressState`). */
  rendered?: string;
}) {
  const [filters, setFilters] = useAddressState(initial, rendered, auditAddress);
  const idError = filters.entityId && !isEntityId(filters.entityId) ? 'must be an id' : undefined;
  const days = dayRangeOf(filters);
  // A filter in error narrows nothing: the log and its export wait for it.
  const inError = Boolean(idError || days.error);
  const sent: Record<string, string | undefined> = {
    resource: filters.resource || undefined,
    op: filters.op || undefined,
    entityId: idError ? undefined : filters.entityId || undefined,
    actorId: filters.actorId || undefined,
    ...days.window,
  };
  return (
    <div className="grid gap-6 lg:grid-cols-[1fr_3fr]">
      <PanelSection title="Filters">
        <form
          className="space-y-3"
          aria-label="Audit filters"
          onSubmit={(event) => event.preventDefault()}
        >
          <SelectField
            label="Resource"
            name="resource"
            value={filters.resource}
            onChange={(event) => setFilters({ ...filters, resource: event.target.value })}
          >
            <option value="">Any</option>
            {LOGGED_RESOURCES.map((resource) => (
              <option key={resource} value={resource}>
                {resourceLabel(resource)}
              </option>
            ))}
          </SelectField>
          <SelectField
            label="Operation"
            name="op"
            value={filters.op}
            onChange={(event) => setFilters({ ...filters, op: event.target.value })}
          >
            <option value="">Any</option>
            <option value="created">created</option>
            <option value="updated">updated</option>
            <option value="deleted">deleted</option>
          </SelectField>
          {pickPeople ? (
            <RecordPicker
              id="audit-person"
              label="Person"
              sources={[USERS_SOURCE]}
              value={filters.actorId}
              initialOption={person}
              onChange={(id) => setFilters({ ...filters, actorId: id })}
              placeholder="Anyone"
            />
          ) : null}
          <DayRangeFields
            days={filters}
            error={days.error}
            onChange={(range) => setFilters({ ...filters, ...range })}
          />
          <TextField
            label="Entity id"
            name="entityId"
            value={filters.entityId}
            error={idError}
            onChange={(event) => setFilters({ ...filters, entityId: event.target.value.trim() })}
          />
          <FilterActions
            onClear={() => setFilters(NO_AUDIT_FILTERS)}
            exportHref={inError ? null : `/api/v1/audit/export?${searchOf(sent)}`}
          />
        </form>
      </PanelSection>
      <PanelSection title="Audit log">
        {inError ? <FilterInError /> : <AuditTable label="Audit log" filters={sent} />}
      </PanelSection>
    </div>
  );
}
