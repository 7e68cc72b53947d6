import { PanelLink } from '@/components/ui/panel-link';
import type { TLiveResource } from '@/lib/shared/live/change';
import { LiveCrumbLabel } from './live-crumb-label';

export interface TCrumb {
  label: string;
  href?: string;
  /** The record it names, whose live name replaces `label` once the page holds it. */
  live?: { resource: TLiveResource; id: string };
}

/**
 * Where a record sits in the account tree, from the viewer's own account down: only
 * what the viewer may see (lib/server/services/accounts/account-trail.ts).
 */
export function Breadcrumbs({ items }: { items: TCrumb[] }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
      <ol className="flex flex-wrap items-center gap-1">
        {items.map((item, index) => {
          const last = index === items.length - 1;
          return (
            <li key={`${index}:${item.label}`} className="flex items-center gap-1">
              {index > 0 ? (
                <span aria-hidden className="text-slate-400">
                  ›
                </span>
              ) : null}
              {item.href && !last ? (
                <PanelLink href={item.href} className="text-brand-700 hover:underline">
                  <CrumbLabel item={item} />
                </PanelLink>
              ) : (
                <span
                  aria-current={last ? 'page' : undefined}
                  className={last ? 'font-medium text-slate-900' : ''}
                >
                  <CrumbLabel item={item} />
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

function CrumbLabel({ item }: { item: TCrumb }) {
  return item.live ? <LiveCrumbLabel {...item.live} label={item.label} /> : <>{item.label}</>;
}

/** The crumbs of an account's trail: resellers and customers link to their own pages. */
export function trailCrumbs(
  own: { name: string },
  trail: { id: string; kind: 'reseller' | 'customer'; name: string }[],
): TCrumb[] {
  return [
    { label: own.name, href: '/' },
    ...trail.map((account) => {
      const resource = account.kind === 'reseller' ? 'resellers' : 'customers';
      return {
        label: account.name,
        href: `/${resource}/${account.id}`,
        live: { resource, id: account.id } as const,
      };
    }),
  ];
}
