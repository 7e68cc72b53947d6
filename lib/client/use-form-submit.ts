'use client';

import { useState, type FormEvent } from 'react';
import { ApiClientError } from './api';

/**
 * Submits a form through a mutation and keeps the API's per-field errors (400
 * `fields`) and its message for anything else; resets the form on success.
 */
export function useFormSubmit<TBody>(
  mutate: (body: TBody) => Promise<unknown>,
  toBody: (form: FormData) => TBody,
) {
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setPending(true);
    setFields({});
    setMessage(null);
    try {
      await mutate(toBody(new FormData(form)));
      form.reset();
    } catch (error) {
      if (error instanceof ApiClientError) {
        setFields(error.fields);
        setMessage(Object.keys(error.fields).length ? null : error.message);
      } else {
        setMessage('Something went wrong; try again.');
      }
    } finally {
      setPending(false);
    }
  }

  return { onSubmit, fields, message, pending };
}

/** A trimmed form value, or undefined when empty (optional fields). */
export function optionalValue(form: FormData, name: string): string | undefined {
  const value = String(form.get(name) ?? '').trim();
  return value === '' ? undefined : value;
}
