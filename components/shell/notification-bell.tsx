'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { apiFetch } from '@/lib/client/api';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { NOTIFICATIONS_KEY } from '@/lib/client/live-cache';
import { useWritesEnabled } from '@/lib/client/writes-enabled';
import { RelativeTime } from '@/components/ui/relative-time';
import type {
  TNotificationDto,
  TNotificationPage,
  TNotificationsRead,
  TNotificationsReadResult,
} from '@/lib/shared/schemas/notifications';

/** How many of the newest notices the panel lists. */
const SHOWN = 20;
/** The panel's width (Tailwind's w-80) and its least distance from the viewport's edges. */
const PANEL_WIDTH_PX = 320;
const EDGE_PX = 16;

/**
 * The header's bell: the viewer's unread count, live (the socket's `notifications.*`
 * envelopes refetch it: lib/client/live-cache.ts), and a panel listing the newest
 * notices with their link and time, each marked read when opened or by its button.
 * `readOnly` (support viewing as someone): that person's notices, never marked read.
 */
export function NotificationBell({ readOnly = false }: { readOnly?: boolean }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const queryClient = useQueryClient();
  const writes = useWritesEnabled();
  const joinedFetch = useJoinedFetch();
  const notices = useQuery({
    queryKey: NOTIFICATIONS_KEY,
    queryFn: ({ signal }) =>
      joinedFetch<TNotificationPage>(`/notifications?limit=${SHOWN}`, { signal }),
  });
  const markRead = useMutation({
    mutationFn: (body: TNotificationsRead) =>
      apiFetch<TNotificationsReadResult>('/notifications/read', { method: 'POST', body }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: NOTIFICATIONS_KEY }),
  });
  const canMark = !readOnly && writes && !markRead.isPending;
  // Where the panel starts, from the bell's own left edge: under the bell's right edge
  // where the page has room (the header's last row, wide screens), moved in to stay 1 rem
  // inside the viewport where it has not (768 px: the header wraps and the bell starts
  // its second row at the left edge, where a right-aligned panel ran off the screen).
  const [offset, setOffset] = useState<number | null>(null);
  useLayoutEffect(() => {
    if (!open || !root.current) return;
    const place = () => {
      const bell = root.current!.getBoundingClientRect();
      // The page's width without a vertical scrollbar (innerWidth counts it).
      const page = document.documentElement.clientWidth;
      const width = Math.min(PANEL_WIDTH_PX, page - 2 * EDGE_PX);
      const left = Math.max(EDGE_PX, Math.min(bell.right - width, page - EDGE_PX - width));
      setOffset(left - bell.left);
    };
    place();
    window.addEventListener('resize', place);
    return () => window.removeEventListener('resize', place);
  }, [open]);

  // Closes on Escape (focus back on the bell) and on a click outside.
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      setOpen(false);
      button.current?.focus();
    };
    const onPointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  const unread = notices.data?.unread ?? 0;
  const items = notices.data?.items ?? [];
  const label = unread ? `Notifications, ${unread} unread` : 'Notifications';

  const opened = (notice: TNotificationDto) => {
    setOpen(false);
    if (canMark && !notice.readAt) markRead.mutate({ ids: [notice.id] });
  };

  return (
    <div className="relative" ref={root}>
      <button
        ref={button}
        type="button"
        className="relative rounded-md p-1.5 text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-600"
        aria-label={label}
        aria-expanded={open}
        aria-controls={panelId}
        data-testid="notification-bell"
        onClick={() => setOpen((was) => !was)}
      >
        <svg aria-hidden="true" viewBox="0 0 20 20" className="h-5 w-5" fill="currentColor">
          <path d="M10 2a6 6 0 0 0-6 6v2.6l-1.3 2.6A1 1 0 0 0 3.6 15h12.8a1 1 0 0 0 .9-1.4L16 10.6V8a6 6 0 0 0-6-6Zm0 17a2.5 2.5 0 0 1-2.4-2h4.8A2.5 2.5 0 0 1 10 19Z" />
        </svg>
        {unread ? (
          <span
            className="absolute -right-1 -top-1 min-w-[1.25rem] rounded-full bg-red-700 px-1 text-center text-xs font-semibold leading-5 text-white"
            data-testid="notification-count"
          >
            {unread > 99 ? '99+' : unread}
          </span>
        ) : null}
      </button>
      {open ? (
        <div
          id={panelId}
          role="region"
          aria-label="Notifications"
          style={offset === null ? undefined : { left: offset, right: 'auto' }}
          className="absolute right-0 z-30 mt-2 w-80 max-w-[calc(100vw-2rem)] rounded-md border border-slate-200 bg-white shadow-lg"
        >
          <div className="flex items-center justify-between border-b border-slate-200 px-3 py-2">
            <h2 className="text-sm font-semibold text-slate-900">Notifications</h2>
            {readOnly ? (
              <span className="text-xs text-slate-600">Read-only while viewing as</span>
            ) : unread ? (
              <button
                type="button"
                className="text-xs text-brand-700 underline disabled:opacity-50"
                disabled={!canMark}
                onClick={() => markRead.mutate({ all: true })}
              >
                Mark all read
              </button>
            ) : null}
          </div>
          {notices.isPending ? (
            <p className="px-3 py-4 text-sm text-slate-600">Loading…</p>
          ) : notices.isError ? (
            <p className="px-3 py-4 text-sm text-red-700" role="alert">
              Notifications could not be loaded.
            </p>
          ) : items.length === 0 ? (
            <p className="px-3 py-4 text-sm text-slate-600">No notifications yet.</p>
          ) : (
            <ul
              className="max-h-96 divide-y divide-slate-100 overflow-y-auto"
              data-testid="notification-list"
            >
              {items.map((notice) => (
                <li
                  key={notice.id}
                  className={`px-3 py-2 text-sm ${notice.readAt ? '' : 'bg-brand-50'}`}
                >
                  <div className="flex items-start justify-between gap-2">
                    {notice.link ? (
                      <PanelLink
                        href={notice.link}
                        className={`text-brand-700 underline ${notice.readAt ? '' : 'font-semibold'}`}
                        onClick={() => opened(notice)}
                      >
                        {notice.title}
                      </PanelLink>
                    ) : (
                      <span
                        className={
                          notice.readAt ? 'text-slate-900' : 'font-semibold text-slate-900'
                        }
                      >
                        {notice.title}
                      </span>
                    )}
                    {notice.readAt || readOnly ? null : (
                      <button
                        type="button"
                        className="shrink-0 text-xs text-brand-700 underline disabled:opacity-50"
                        disabled={!canMark}
                        aria-label={`Mark “${notice.title}” read`}
                        onClick={() => markRead.mutate({ ids: [notice.id] })}
                      >
                        Mark read
                      </button>
                    )}
                  </div>
                  <p className="mt-0.5 text-slate-700">{notice.body}</p>
                  <p className="mt-0.5 text-xs text-slate-600">
                    <RelativeTime at={notice.createdAt} />
                    {notice.readAt ? null : <span className="sr-only"> · unread</span>}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}
