import { PanelLink } from '@/components/ui/panel-link';
import { SignOutButton } from '@/components/auth/sign-out-button';
import { ConnectionIndicator } from '@/components/live/connection-indicator';
import type { TMeDto } from '@/lib/shared/schemas/me';
import { BrandLogo } from './brand-logo';
import { HeaderIdentity } from './header-identity';
import { NotificationBell } from './notification-bell';
import { ThemeToggle } from './theme-toggle';

export interface TAppHeaderProps {
  /** Who the page was rendered for; the header follows it live from there. */
  me: TMeDto;
  /**
   * While support views as someone: the links to one's own credentials are hidden, and
   * the bell shows that person's notices without marking them read.
   */
  viewingAs?: boolean;
  /** The brand the page shows (the portal's, or the person's own account's). */
  brandName: string;
  /** Its logo, when it has one. */
  brandLogoUrl?: string | null;
}

/** The signed-in header: the brand's name, live state, who is signed in and for which account. */
export function AppHeader({
  me,
  viewingAs = false,
  brandName,
  brandLogoUrl = null,
}: TAppHeaderProps) {
  return (
    <header className="border-b border-slate-200 bg-white">
      <div className="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-3 px-4 py-3 sm:px-6">
        <div className="flex items-center gap-3">
          <BrandLogo src={brandLogoUrl} className="h-8 w-auto max-w-[8rem] object-contain" />
          <span
            data-testid="brand-name"
            className="text-base font-semibold tracking-tight text-brand-900"
          >
            {brandName}
          </span>
          <ConnectionIndicator />
        </div>
        {/* Too wide for one line (768 px and below): whole items wrap to a second row, so
            no item is squeezed until its words break (not nowrap here: the bell's panel of
            notices lives inside and must wrap its text). */}
        <div className="flex flex-wrap items-center justify-end gap-x-4 gap-y-2">
          <NotificationBell readOnly={viewingAs} />
          <HeaderIdentity initial={me} />
          {viewingAs ? null : (
            <>
              <PanelLink href="/password" className="text-sm text-brand-700 underline">
                Password
              </PanelLink>
              <PanelLink href="/account/security" className="text-sm text-brand-700 underline">
                Account security
              </PanelLink>
            </>
          )}
          <ThemeToggle />
          <SignOutButton />
        </div>
      </div>
    </header>
  );
}
