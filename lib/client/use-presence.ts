'use client';

import { useEffect, useState } from 'react';
import type { TPresence, TPresenceTopic } from '@/lib/shared/live/presence';
import { useLive } from './live-provider';

/**
 * Who else is on this page or record, live. Joins the topic on every (re)connection and
 * after a re-scoping (the server drops presence checked under the old view), leaves it
 * on unmount.
 */
export function usePresence(topic: TPresenceTopic | null): TPresence['members'] {
  const { socket } = useLive();
  const [members, setMembers] = useState<TPresence['members']>([]);

  useEffect(() => {
    if (!socket || !topic) return;
    const join = () => socket.emit('presence:join', { topic });
    const onPresence = (presence: TPresence) => {
      if (presence.topic === topic) setMembers(presence.members);
    };
    socket.on('presence', onPresence);
    socket.on('hello', join);
    socket.on('session.rescoped', join);
    if (socket.connected) join();
    return () => {
      socket.off('presence', onPresence);
      socket.off('hello', join);
      socket.off('session.rescoped', join);
      if (socket.connected) socket.emit('presence:leave', { topic });
      setMembers([]);
    };
  }, [socket, topic]);

  return members;
}
