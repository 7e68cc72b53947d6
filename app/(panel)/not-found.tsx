import type { Metadata } from 'next';
import { PanelLink } from '@/components/ui/panel-link';

export const metadata: Metadata = { title: 'Not found' };

/**
 * A page or record that is not there (or not in this person's scope: the API answers
 * 404 for both, so this page does not say which) — inside the panel's header and
 * navigation, which offer the ways on that this person's grants open (a fixed list here
 * sent a customer's people to lists they may not read), and back to the overview.
 */
export default function PanelNotFound() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8">
      <h1 className="text-xl font-semibold tracking-tight text-slate-900">Page not found</h1>
      <p className="mt-2 text-sm text-slate-600">
        This page could not be found. The link may be old, or the record was deleted or is outside
        what you can see. The navigation leads to everything you can open.
      </p>
      <p className="mt-6 text-sm font-medium">
        <PanelLink href="/" className="text-brand-700 hover:underline">
          Back to the overview
        </PanelLink>
      </p>
    </div>
  );
}
