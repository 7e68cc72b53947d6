import { PanelLink } from '@/components/ui/panel-link';

export interface TRecordTab {
  id: string;
  label: string;
}

/**
 * A record's sections as links (`?tab=users`): each has its own URL, so Back, refresh and
 * a shared link land on the same section. The first tab is the bare record URL.
 */
export function RecordTabs({
  base,
  tabs,
  current,
  label,
}: {
  base: string;
  tabs: TRecordTab[];
  current: string;
  label: string;
}) {
  return (
    <nav aria-label={label} className="-mb-px overflow-x-auto border-b border-slate-200">
      <ul className="flex min-w-max gap-1">
        {tabs.map((tab, index) => {
          const active = tab.id === current;
          return (
            <li key={tab.id}>
              <PanelLink
                href={index === 0 ? base : `${base}?tab=${tab.id}`}
                aria-current={active ? 'page' : undefined}
                scroll={false}
                className={`inline-block border-b-2 px-3 py-2 text-sm font-medium ${
                  active
                    ? 'border-brand-600 text-brand-800'
                    : 'border-transparent text-slate-600 hover:border-slate-300 hover:text-slate-900'
                }`}
              >
                {tab.label}
              </PanelLink>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** The tab a `?tab=` names, when the viewer has it; else the first. */
export function pickTab(tabs: TRecordTab[], requested: string | string[] | undefined): string {
  const wanted = typeof requested === 'string' ? requested : undefined;
  return tabs.find((tab) => tab.id === wanted)?.id ?? tabs[0]!.id;
}
