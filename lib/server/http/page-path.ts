/**
 * The path and query a page request asked for, as the custom server received it
 * (server/app.ts sets it on every request, over any the client sent): a page that sends
 * its visitor to sign in names where to come back to (`/login?next=…`). Next does not
 * give a server component its own URL.
 */
export const PAGE_PATH_HEADER = 'x-panel-page-path';
