/**
 * The first of `base`, `base (2)`, `base (3)` … not in `taken`: the name a group from a
 * template gets when none is given (the server), and the one the form suggests (the
 * browser), so both offer the same.
 */
export function firstFreeName(base: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base} (${n})`;
    if (!taken.has(name)) return name;
  }
}
