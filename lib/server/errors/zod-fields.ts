import type { z } from 'zod';

type TIssue = z.ZodError['issues'][number];

/**
 * Zod issues as `{ "field.path": "why" }`, the first reason per field. A union that no
 * member accepted is reported by the member that got furthest into the input (see
 * `furthestMember`), so `{"name":"G","grants":["nope"]}` names `grants.0` rather than
 * the whole body; only when every member failed at the union itself (the wrong type
 * altogether) does the union's own message stand, at its own path.
 */
export function zodFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  collect(error.issues, [], fields);
  return fields;
}

function collect(issues: readonly TIssue[], base: PropertyKey[], fields: Record<string, string>) {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const prefix = path.length ? path.join('.') + '.' : '';
      for (const key of issue.keys) fields[prefix + key] ??= 'is not a known field';
      continue;
    }
    if (issue.code === 'invalid_union') {
      // A member's issues have paths relative to the union.
      const member = furthestMember(issue.errors);
      if (member) {
        collect(member, path, fields);
        continue;
      }
    }
    const key = path.length ? path.join('.') : 'body';
    fields[key] ??= issue.message;
  }
}

/**
 * The failed union member that got furthest: the deepest issue (it matched the input down
 * to there), then the fewest issues (the smallest fix), then the first declared. Null when
 * none got below the union itself, whose own message then says what it takes.
 */
function furthestMember(members: readonly (readonly TIssue[])[]): readonly TIssue[] | null {
  let best: readonly TIssue[] | null = null;
  let bestDepth = 0;
  for (const member of members) {
    const depth = Math.max(0, ...member.map(depthOf));
    if (depth > bestDepth || (depth === bestDepth && best && member.length < best.length)) {
      best = member;
      bestDepth = depth;
    }
  }
  return best;
}

/** How deep into the input an issue is: an unknown key is one level below its object. */
function depthOf(issue: TIssue): number {
  if (issue.code === 'unrecognized_keys') return issue.path.length + 1;
  if (issue.code === 'invalid_union') {
    return issue.path.length + Math.max(0, ...issue.errors.flat().map(depthOf));
  }
  return issue.path.length;
}
