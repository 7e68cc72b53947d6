'use client';

import { usePresence } from '@/lib/client/use-presence';
import type { TPresenceTopic } from '@/lib/shared/live/presence';

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).slice(0, 2);
  return parts.map((part) => part[0]?.toUpperCase() ?? '').join('') || '?';
}

/** The people (other than you) on this page or record, as small avatars. */
export function PresenceAvatars({ topic, label }: { topic: TPresenceTopic; label: string }) {
  const others = usePresence(topic).filter((member) => !member.you);
  if (others.length === 0) return null;
  const names = others.map(({ actor }) =>
    actor.kind === 'user' ? `${actor.name} (${actor.email})` : actor.name,
  );
  return (
    <div
      className="flex items-center gap-1"
      data-testid="presence"
      aria-label={`Also ${label}: ${names.join(', ')}`}
      role="group"
    >
      <span className="mr-1 text-xs text-slate-600" aria-hidden>
        Also here
      </span>
      {others.slice(0, 5).map(({ actor }, index) => (
        <span
          key={index}
          title={names[index]}
          className="inline-flex h-7 w-7 items-center justify-center rounded-full border-2 border-white bg-brand-700 text-xs font-semibold text-white"
        >
          {initials(actor.name)}
        </span>
      ))}
      {others.length > 5 ? (
        <span className="text-xs text-slate-600">+{others.length - 5}</span>
      ) : null}
    </div>
  );
}
