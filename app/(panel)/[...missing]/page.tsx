import { notFound } from 'next/navigation';

/**
 * Any path the panel does not have, for a signed-in person: the panel's own 404
 * (app/(panel)/not-found.tsx) inside the header and navigation, not the bare one.
 * Signed out, the layout sends the visitor to sign in first.
 */
export default function MissingPage(): never {
  notFound();
}
