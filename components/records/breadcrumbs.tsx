import { PanelLink } from '@/components/ui/panel-link';

export interface TCrumb {
  label: string;
  href?: string;
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
                  {item.label}
                </PanelLink>
              ) : (
                <span
                  aria-current={last ? 'page' : undefined}
                  className={last ? 'font-medium text-slate-900' : ''}
                >
                  {item.label}
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}

/** The crumbs of an account's trail: resellers and customers link to their own pages. */
export function trailCrumbs(
  own: { name: string },
  trail: { id: string; kind: 'reseller' | 'customer'; name: string }[],
): TCrumb[] {
  return [
    { label: own.name, href: '/' },
    ...trail.map((account) => ({
      label: account.name,
      href: `/${account.kind === 'reseller' ? 'resellers' : 'customers'}/${account.id}`,
    })),
  ];
}
