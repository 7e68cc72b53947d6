'use client';

import { useMe } from '@/lib/client/use-me';
import type { TMeDto } from '@/lib/shared/schemas/me';

/** Who is signed in, for which account and group: live, so a rename by the carrier shows at once. */
export function HeaderIdentity({ initial }: { initial: TMeDto }) {
  const { user, account, group } = useMe(initial);
  return (
    <>
      <div className="text-right text-sm leading-tight" data-testid="signed-in-user">
        <div className="font-medium text-slate-900">{user.name}</div>
        <div className="text-slate-500">{user.email}</div>
      </div>
      <div className="text-right text-sm leading-tight" data-testid="signed-in-account">
        <div className="font-medium text-slate-900">{account.name}</div>
        <div className="text-slate-500">
          <span className="capitalize">{account.kind}</span> · {group.name}
        </div>
      </div>
    </>
  );
}
