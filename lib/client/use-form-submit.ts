'use client';

import { useState, type FormEvent } from 'react';
import { ApiClientError } from './api';

/** Someone saved first: what we sent and what the server holds now (409 `current`). */
export interface TConflict<TBody> {
  mine: TBody;
  current: Record<string, unknown>;
}

/**
 * Submits a form through a mutation and keeps the API's per-field errors (400
 * `fields`) and its message for anything else; resets the form on success. A stale
 * version (409 `conflict`) is kept as a conflict — both versions — for the form to show
 * instead of overwriting; `overwrite` sends the same body again on top of the current
 * version, only when the person chooses it.
 */
export function useFormSubmit<TBody>(
  mutate: (body: TBody) => Promise<unknown>,
  toBody: (form: FormData) => TBody,
) {
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [conflict, setConflict] = useState<TConflict<TBody> | null>(null);

  async function send(body: TBody, form?: HTMLFormElement) {
    setPending(true);
    setFields({});
    setMessage(null);
    setConflict(null);
    try {
      await mutate(body);
      form?.reset();
    } catch (error) {
      if (error instanceof ApiClientError && error.code === 'conflict' && error.current) {
        setConflict({ mine: body, current: error.current as Record<string, unknown> });
      } else if (error instanceof ApiClientError) {
        setFields(error.fields);
        setMessage(Object.keys(error.fields).length ? null : error.message);
      } else {
        setMessage('Something went wrong; try again.');
      }
    } finally {
      setPending(false);
    }
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    await send(toBody(new FormData(form)), form);
  }

  async function overwrite() {
    if (!conflict) return;
    await send({ ...conflict.mine, version: conflict.current.version } as TBody);
  }

  return {
    onSubmit,
    fields,
    message,
    pending,
    conflict,
    overwrite,
    dismissConflict: () => setConflict(null),
  };
}

/** A trimmed form value, or undefined when empty (optional fields). */
export function optionalValue(form: FormData, name: string): string | undefined {
  const value = String(form.get(name) ?? '').trim();
  return value === '' ? undefined : value;
}
