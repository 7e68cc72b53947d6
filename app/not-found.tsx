import type { Metadata } from 'next';
import { PanelLink } from '@/components/ui/panel-link';

export const metadata: Metadata = { title: 'Not found' };

/**
 * The panel's 404. Next's built-in one carries an inline <style> element without the
 * CSP nonce, which the policy blocks (and the browser reports); this one uses the
 * stylesheet.
 */
export default function NotFound() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold tracking-tight text-brand-900">Page not found</h1>
        <p className="mb-6 mt-1 text-sm text-slate-600">This page could not be found.</p>
        <PanelLink href="/" className="text-sm font-medium text-brand-700 hover:underline">
          Back to the panel
        </PanelLink>
      </div>
    </main>
  );
}
