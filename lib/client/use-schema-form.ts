'use client';

import { useState } from 'react';
import {
  get,
  useForm,
  type DefaultValues,
  type FieldErrors,
  type FieldValues,
  type Path,
  type Resolver,
} from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import type { z } from 'zod';
import { ApiClientError } from './api';
import { useToast } from '@/components/ui/toast';
import { successToast, type TSuccessToast } from './use-resource';
import { useWritesEnabled, WRITES_PAUSED_MESSAGE } from './writes-enabled';

/**
 * Thrown by a `submit` that stops before sending (the person cancelled a confirmation):
 * the form keeps its values and shows nothing.
 */
export class SubmitCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** Someone saved first: what we sent and what the server holds now (409 `current`). */
export interface TConflict<TBody> {
  mine: TBody;
  current: Record<string, unknown>;
}

/**
 * A form checked by the endpoint's own zod schema (lib/shared/schemas) before it is
 * sent, with react-hook-form holding the values:
 * - `toBody` turns the form's values into the body the API takes (empty optional text
 *   left out, numbers parsed, the version added); the schema checks that body, so a
 *   field's error reads exactly as the server's would, and `submit` gets the schema's
 *   typed output;
 * - the API's own refusals land the same way: per-field errors (400 `fields`) under
 *   their fields, anything else as `message`; the form resets on success;
 * - a stale version (409 `conflict`) is kept as a conflict — both versions — for the form
 *   to show instead of overwriting; `overwrite` sends the same body again on top of the
 *   current version, only when the person chooses it.
 */
export function useSchemaForm<
  TValues extends FieldValues,
  TSchema extends z.ZodType,
  TResult = unknown,
>({
  schema,
  defaultValues,
  toBody,
  submit,
  resetOnSuccess = true,
  success,
  reads = false,
}: {
  schema: TSchema;
  defaultValues: DefaultValues<TValues>;
  /** The body's fields; their values are the schema's to judge (raw text, maybe wrong). */
  toBody: (values: TValues) => { [K in keyof z.input<TSchema>]?: unknown };
  submit: (body: z.output<TSchema>) => Promise<TResult>;
  /** Off for a step that only leads to a confirmation (the values stay). */
  resetOnSuccess?: boolean;
  /** The toast shown when `submit` resolved (from its result and the body sent). */
  success?: TSuccessToast<TResult, z.output<TSchema>>;
  /** A form that only reads (a lookup): usable while the socket is down. */
  reads?: boolean;
}) {
  const toast = useToast();
  const writes = useWritesEnabled();
  const [message, setMessage] = useState<string | null>(null);
  const [conflict, setConflict] = useState<TConflict<z.output<TSchema>> | null>(null);
  const form = useForm<TValues>({ defaultValues, resolver: schemaResolver(schema, toBody) });
  // The fields whose errors the form shows: those it reads from `fields` when it renders.
  // An error on any other field (one the form has no input for, such as the parent of a
  // new account at the depth limit, or a list edited by a widget of its own) is shown as
  // the form's message, never swallowed.
  const [shown] = useState(() => new Set<string>());

  async function send(body: z.output<TSchema>) {
    setMessage(null);
    setConflict(null);
    if (!writes && !reads) {
      setMessage(WRITES_PAUSED_MESSAGE);
      return;
    }
    try {
      const result = await submit(body);
      if (resetOnSuccess) form.reset();
      const shown = successToast(success, result, body);
      if (shown) toast(shown);
    } catch (error) {
      if (error instanceof SubmitCancelled) return;
      if (error instanceof ApiClientError && error.code === 'conflict' && error.current) {
        setConflict({ mine: body, current: error.current as Record<string, unknown> });
      } else {
        refused(error);
      }
    }
  }

  /** The API's refusal shown: under its fields, or as the form's message. */
  function refused(error: unknown) {
    if (error instanceof ApiClientError && Object.keys(error.fields).length) {
      for (const [field, text] of Object.entries(error.fields)) {
        form.setError(field as Path<TValues>, { type: 'server', message: text });
      }
      setMessage(unshownMessage(error.fields, shown));
    } else if (error instanceof ApiClientError) {
      setMessage(error.message);
    } else {
      setMessage('Something went wrong; try again.');
    }
  }

  return {
    form,
    register: ((name, options) => ({
      ...form.register(name, options),
      ...serverValue(get(defaultValues, name)),
    })) as typeof form.register,
    onSubmit: form.handleSubmit(
      (values) => send(values as unknown as z.output<TSchema>),
      (errors) => setMessage(unshownMessage(fieldMessages(errors), shown)),
    ),
    fields: readsRecorded(fieldMessages(form.formState.errors), shown),
    message,
    refused,
    pending: form.formState.isSubmitting,
    conflict,
    overwrite: async () => {
      if (!conflict) return;
      await send({
        ...(conflict.mine as object),
        version: conflict.current.version,
      } as z.output<TSchema>);
    },
    dismissConflict: () => setConflict(null),
  };
}

/**
 * A react-hook-form resolver that checks `toBody(values)` with `schema` (zodResolver):
 * errors named by the body's paths, which are the form's field names; on success the
 * values handed to submit are the schema's output.
 */
export function schemaResolver<TValues extends FieldValues, TSchema extends z.ZodType>(
  schema: TSchema,
  toBody: (values: TValues) => unknown,
): Resolver<TValues> {
  const check = zodResolver(schema as never) as unknown as Resolver<FieldValues>;
  return async (values, context, options) => {
    const result = await check(toBody(values) as FieldValues, context, options as never);
    return Object.keys(result.errors).length
      ? { values: {}, errors: result.errors as FieldErrors<TValues> }
      : { values: result.values as TValues, errors: {} };
  };
}

/** One message per top-level field (a list's first item error stands for the list). */
export function fieldMessages(errors: FieldErrors): Record<string, string> {
  const messages: Record<string, string> = {};
  for (const [field, error] of Object.entries(errors)) {
    const text = firstMessage(error);
    if (text) messages[field] = text;
  }
  return messages;
}

function firstMessage(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const own = (error as { message?: unknown }).message;
  if (typeof own === 'string' && own) return own;
  // A list's errors by index; never the field's DOM element (`ref`).
  for (const [key, nested] of Object.entries(error)) {
    if (key === 'ref') continue;
    const text = firstMessage(nested);
    if (text) return text;
  }
  return undefined;
}

/** `messages`, noting in `read` each field the form reads (and so shows). */
function readsRecorded(messages: Record<string, string>, read: Set<string>) {
  return new Proxy(messages, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key) as string | undefined;
    },
  });
}

/**
 * The errors of fields the form does not show, as one message naming each ("Parent: is
 * already 4 levels below the carrier"), or null when it shows them all.
 */
export function unshownMessage(
  messages: Record<string, string>,
  shown: ReadonlySet<string>,
): string | null {
  const unshown = Object.entries(messages).filter(([field]) => !shown.has(field));
  if (!unshown.length) return null;
  return unshown.map(([field, text]) => `${fieldLabel(field)}: ${text}`).join('; ');
}

/** `parentId` → "Parent", `moreParents` → "More parents": a field's name as words. */
function fieldLabel(field: string): string {
  const words = field
    .replace(/Ids?$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A field's opened value as an attribute, so the server's HTML shows it: react-hook-form
 * writes it into the input only when the script registers the field, and until then the
 * form would show empty. Text and numbers as the value, a flag as checked; a list (a
 * checkbox group) is left to the form.
 */
function serverValue(value: unknown): { defaultValue?: string; defaultChecked?: boolean } {
  if (typeof value === 'string' || typeof value === 'number')
    return { defaultValue: String(value) };
  if (typeof value === 'boolean') return { defaultChecked: value };
  return {};
}

/** A trimmed text value, or undefined when empty (optional fields). */
export function optional(value: string | undefined): string | undefined {
  const trimmed = (value ?? '').trim();
  return trimmed === '' ? undefined : trimmed;
}
