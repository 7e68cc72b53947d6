'use client';

import { useEffect, useState } from 'react';

/** `value`, once it has stopped changing for `delayMs`: a search typed fast is one fetch. */
export function useDebounced<T>(value: T, delayMs = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}
