'use client';

import type { TPresenceTopic } from '@/lib/shared/live/presence';
import { PresenceAvatars } from './presence-avatars';

/** The corner of a detail panel: who else has the record open, and Close. */
export function DetailActions({
  topic,
  label,
  onClose,
}: {
  topic: TPresenceTopic;
  label: string;
  onClose: () => void;
}) {
  return (
    <div className="flex items-center gap-3">
      <PresenceAvatars topic={topic} label={label} />
      <button type="button" className="text-sm text-brand-700 underline" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
