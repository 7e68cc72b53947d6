import type { z } from 'zod';

/** Zod issues as `{ "field.path": "why" }`, the first reason per field. */
export function zodFields(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length ? issue.path.join('.') + '.' : '';
      for (const key of issue.keys) fields[prefix + key] ??= 'is not a known field';
      continue;
    }
    const key = issue.path.length ? issue.path.join('.') : 'body';
    fields[key] ??= issue.message;
  }
  return fields;
}
