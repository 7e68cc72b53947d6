import type { Metadata } from 'next';
import Link from 'next/link';

export const metadata: Metadata = { title: 'Not found' };

/**
 * A page or record that is not there (or not in this person's scope: the API answers
 * 404 for both, so this page does not say which) — inside the panel's header and
 * navigation, with the ways back.
 */
export default function PanelNotFound() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8">
      <h1 className="text-xl font-semibold tracking-tight text-slate-900">Page not found</h1>
      <p className="mt-2 text-sm text-slate-600">
        This page could not be found. The link may be old, or the record was deleted or is outside
        what you can see.
      </p>
      <ul className="mt-6 flex flex-wrap gap-4 text-sm font-medium">
        <li>
          <Link href="/" className="text-brand-700 hover:underline">
            Back to the overview
          </Link>
        </li>
        <li>
          <Link href="/resellers" className="text-brand-700 hover:underline">
            Resellers
          </Link>
        </li>
        <li>
          <Link href="/customers" className="text-brand-700 hover:underline">
            Customers
          </Link>
        </li>
        <li>
          <Link href="/cards" className="text-brand-700 hover:underline">
            Cards
          </Link>
        </li>
      </ul>
    </div>
  );
}
