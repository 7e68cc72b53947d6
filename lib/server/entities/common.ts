import { p } from '@mikro-orm/core';

/**
 * What every API entity carries (DESIGN §3): an integer `version` for optimistic
 * concurrency (a stale update gets 409) and its creation and update times.
 */
export function versionedTimestamps() {
  return {
    version: p.integer().version(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  };
}
