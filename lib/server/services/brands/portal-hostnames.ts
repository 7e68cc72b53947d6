import type { MikroORM } from '@mikro-orm/postgresql';
import { directQuery } from '@/lib/server/db/direct-query';
import { ownOrigin } from '@/lib/server/http/request-host';

/**
 * Every brand's hostname in the installation, read once and kept until a brand changes
 * (issue 19): the socket's allowed origins are the public URL plus these, and a
 * handshake must not cost a query. Dropped at once after a brand change in this process
 * (the brand service calls `invalidatePortalHostnames`) and when the fan-out passes a
 * `brands` entry from another process (server/fan-out.ts), so a removed hostname is
 * refused from the next handshake on.
 */
export class PortalHostnames {
  private loaded?: Promise<ReadonlySet<string>>;

  constructor(private readonly orm: MikroORM) {}

  async has(hostname: string): Promise<boolean> {
    return (await this.current()).has(hostname);
  }

  /**
   * Forgets the set: the next check reads it again. A read already under way keeps
   * answering only the checks that began before the change.
   */
  invalidate(): void {
    this.loaded = undefined;
  }

  private current(): Promise<ReadonlySet<string>> {
    if (!this.loaded) {
      const loading = this.load();
      this.loaded = loading;
      // A failed read is not kept: the next check tries again.
      loading.catch(() => {
        if (this.loaded === loading) this.loaded = undefined;
      });
    }
    return this.loaded;
  }

  private async load(): Promise<ReadonlySet<string>> {
    const rows = await directQuery<{ hostname: string }>(
      this.orm.em.fork(),
      'select hostname from brand_hostname',
      [],
    );
    return new Set(rows.map((row) => row.hostname));
  }
}

/**
 * Whether a browser origin may open a socket: the public URL's own, or one of the panel's
 * other names (`PANEL_HOSTNAMES`) or a brand's hostname with the public URL's scheme and
 * port (the same server under another name).
 */
export async function isAllowedOrigin(
  origin: string,
  publicUrl: string,
  hostnames: PortalHostnames,
  panelHostnames: readonly string[] = [],
): Promise<boolean> {
  const panel = new URL(publicUrl);
  if (origin === panel.origin) return true;
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  if (url.origin !== origin || url.protocol !== panel.protocol || url.port !== panel.port) {
    return false;
  }
  return panelHostnames.includes(url.hostname) || hostnames.has(url.hostname);
}

/**
 * Whether a handshake carrying a session cookie may open a socket from `origin`: an
 * allowed origin (above) that is also of the host the request was sent to (`host`, its
 * Host header) — the host the session is bound to, as for a cookie write
 * (api/same-origin.ts `ownOrigin`). A browser sends the cookie of the host it connects
 * to from any page of the same site, so the installation's list alone would let a page
 * on a hostname a reseller registered for its brand (a sibling subdomain of the panel)
 * read a signed-in person's live feed. Hostnames are compared, not ports: the origin's
 * port is the public URL's (checked above), where a proxy may forward the Host without
 * it; sessions are bound to the hostname alone.
 */
export async function isAllowedSessionOrigin(
  origin: string,
  host: string | null | undefined,
  publicUrl: string,
  hostnames: PortalHostnames,
  panelHostnames: readonly string[] = [],
): Promise<boolean> {
  if (!URL.canParse(origin)) return false;
  if (new URL(origin).hostname !== new URL(ownOrigin(host, publicUrl)).hostname) return false;
  return isAllowedOrigin(origin, publicUrl, hostnames, panelHostnames);
}

/** Shared through globalThis: the server owns it, the route handlers invalidate it. */
const KEY = Symbol.for('reseller-panel.portal-hostnames');
type TGlobalWithHostnames = typeof globalThis & { [KEY]?: PortalHostnames };

export function setPortalHostnames(hostnames: PortalHostnames | undefined): void {
  (globalThis as TGlobalWithHostnames)[KEY] = hostnames;
}

/** After a commit that may have changed a hostname (a brand set or removed). */
export function invalidatePortalHostnames(): void {
  (globalThis as TGlobalWithHostnames)[KEY]?.invalidate();
}
