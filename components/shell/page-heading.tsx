import type { ReactNode } from 'react';

/** A page's one <h1>, above its sections (their titles are <h2>). */
export function PageHeading({ children }: { children: ReactNode }) {
  return <h1 className="mb-6 text-2xl font-semibold tracking-tight text-slate-900">{children}</h1>;
}
