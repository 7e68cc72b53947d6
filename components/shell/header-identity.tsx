'use client';

import { useMe } from '@/lib/client/use-me';
import type { TMeDto } from '@/lib/shared/schemas/me';

/** Who is signed in, for which account and group: live, so a rename by the carrier shows at once. */
export function HeaderIdentity({ initial }: { initial: TMeDto }) {
  const { user, account, group } = useMe(initial);
  return (
    <>
      {/* One line each, cut with an ellipsis (whole text on hover) rather than broken at a
          hyphen or pushed past a narrow screen's edge. */}
      <div className="max-w-full text-right text-sm leading-tight" data-testid="signed-in-user">
        <div className="truncate font-medium text-slate-900" title={user.name}>
          {user.name}
        </div>
        <div className="truncate text-slate-500" title={user.email}>
          {user.email}
        </div>
      </div>
      <div className="max-w-full text-right text-sm leading-tight" data-testid="signed-in-account">
        <div className="truncate font-medium text-slate-900" title={account.name}>
          {account.name}
        </div>
        <div className="truncate text-slate-500">
          <span className="capitalize">{account.kind}</span> · {group.name}
        </div>
      </div>
    </>
  );
}
