/**
 * The first thing Tab reaches: a jump past the header and the navigation to the page's
 * `<main id="content">`. Hidden until it has the focus, then shown over the page.
 */
export function SkipLink() {
  return (
    <a
      href="#content"
      className="sr-only focus:not-sr-only focus:fixed focus:left-4 focus:top-4 focus:z-50 focus:rounded-md focus:bg-white focus:px-4 focus:py-2 focus:text-sm focus:font-semibold focus:text-brand-700 focus:shadow-lg focus:outline-none focus:ring-2 focus:ring-brand-500"
    >
      Skip to content
    </a>
  );
}
