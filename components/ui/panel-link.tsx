'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { ComponentProps, FocusEvent, MouseEvent, TouchEvent } from 'react';

export type TPanelLinkProps = Omit<ComponentProps<typeof Link>, 'href' | 'prefetch'> & {
  href: string;
};

/**
 * Every link of the panel. Next prefetches each link the moment it is on screen: a page
 * load asked the server for every section in the navigation and every record in view,
 * twice each (the route's tree, then its head), and those requests took more of the
 * server's CPU per page view than the page and its data together (docs/bench.md,
 * twenty-second session). Here a link is prefetched when someone shows they may follow
 * it — the pointer comes over it, a finger touches it, the keyboard lands on it — which
 * still comes before the click, and never for merely being seen.
 */
export function PanelLink({ href, onMouseEnter, onTouchStart, onFocus, ...rest }: TPanelLinkProps) {
  const router = useRouter();
  // The router keeps what it prefetched for a while (about five minutes): a pointer
  // passing over a link twice asks once. The caller's own handler runs first, as Next's
  // Link runs it.
  const intent = () => router.prefetch(href);
  return (
    <Link
      {...rest}
      href={href}
      prefetch={false}
      onMouseEnter={(event: MouseEvent<HTMLAnchorElement>) => {
        onMouseEnter?.(event);
        intent();
      }}
      onTouchStart={(event: TouchEvent<HTMLAnchorElement>) => {
        onTouchStart?.(event);
        intent();
      }}
      onFocus={(event: FocusEvent<HTMLAnchorElement>) => {
        onFocus?.(event);
        intent();
      }}
    />
  );
}
