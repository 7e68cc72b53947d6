import {
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useWritesEnabled, WRITES_PAUSED_MESSAGE } from '@/lib/client/writes-enabled';
import { useHydrated } from '@/lib/client/use-viewer-locale';

const inputClass =
  'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500 aria-[invalid=true]:border-red-500';

/**
 * The frame every form control shares: its label, its error under it, and the ids and
 * aria attributes that tie them together for screen readers. The id is the caller's when
 * given, else unique per field (useId): two forms on one page (add and edit) each keep
 * their own label, and a caller passing `id={undefined}` cannot leave a control unnamed.
 */
function FieldFrame({
  name,
  id: givenId,
  label,
  error,
  control,
}: {
  name: string;
  /** A stable id a page links to (otherwise one is generated). */
  id?: string;
  label: string;
  error?: string;
  control: (props: {
    id: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
    className: string;
  }) => ReactNode;
}) {
  const generated = useId();
  const id = givenId || `field-${name}${generated}`;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      {control({
        id,
        'aria-invalid': Boolean(error),
        'aria-describedby': error ? `${id}-error` : undefined,
        className: inputClass,
      })}
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A labelled input with its error under it; `{...register('name')}` wires it to a form. */
export function TextField({
  label,
  error,
  id,
  ...input
}: {
  label: string;
  error?: string;
  name: string;
  ref?: Ref<HTMLInputElement>;
} & InputHTMLAttributes<HTMLInputElement>) {
  // Read-only until hydrated: what is typed before would be overwritten (useHydrated).
  const hydrated = useHydrated();
  return (
    <FieldFrame
      name={input.name}
      id={id}
      label={label}
      error={error}
      // The frame's id and aria wiring come last: nothing spread from the caller undoes them.
      control={(props) => <input {...input} readOnly={input.readOnly || !hydrated} {...props} />}
    />
  );
}

/** A labelled multi-line text field (a list typed one per line) with its error under it. */
export function TextAreaField({
  label,
  error,
  id,
  ...input
}: {
  label: string;
  error?: string;
  name: string;
  ref?: Ref<HTMLTextAreaElement>;
} & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const hydrated = useHydrated();
  return (
    <FieldFrame
      name={input.name}
      id={id}
      label={label}
      error={error}
      control={(props) => (
        <textarea rows={3} {...input} readOnly={input.readOnly || !hydrated} {...props} />
      )}
    />
  );
}

/** A labelled select with its error under it. */
export function SelectField({
  label,
  error,
  id,
  children,
  ...select
}: {
  label: string;
  error?: string;
  name: string;
  ref?: Ref<HTMLSelectElement>;
  children: ReactNode;
} & SelectHTMLAttributes<HTMLSelectElement>) {
  // A select cannot be read-only: disabled until hydrated (useHydrated).
  const hydrated = useHydrated();
  return (
    <FieldFrame
      name={select.name}
      id={id}
      label={label}
      error={error}
      control={(props) => (
        <select {...select} disabled={select.disabled || !hydrated} {...props}>
          {children}
        </select>
      )}
    />
  );
}

/**
 * A small labelled select beside a heading that filters what is shown (a ledger's kind,
 * the exposure's currency): no form, no error, its value the caller's state.
 */
export function InlineSelect({
  label,
  value,
  onChange,
  children,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id} className="text-slate-600">
        {label}
      </label>
      <select
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        className="rounded-md border border-slate-300 px-2 py-1"
      >
        {children}
      </select>
    </div>
  );
}

/** A compact labelled date (`YYYY-MM-DD`) beside a list's other inline filters. */
export function InlineDate({
  label,
  value,
  onChange,
  invalid,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** Said beside the field (and to assistive technology) while the value cannot be used. */
  invalid?: string;
}) {
  const id = useId();
  const hint = useId();
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id} className="text-slate-600">
        {label}
      </label>
      <input
        id={id}
        type="date"
        value={value}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? hint : undefined}
        onChange={(event) => onChange(event.target.value)}
        className="rounded-md border border-slate-300 px-2 py-1"
      />
      {invalid ? (
        <span id={hint} className="text-red-700">
          {invalid}
        </span>
      ) : null}
    </div>
  );
}

/**
 * The panel's button. A submit is a write: it is disabled while the live socket is down
 * (useWritesEnabled), unless `reads` (a lookup form). `danger`: red, for what cuts
 * someone off or cannot be taken back.
 */
export function Button({
  children,
  reads = false,
  danger = false,
  ...button
}: {
  children: ReactNode;
  reads?: boolean;
  danger?: boolean;
} & React.ButtonHTMLAttributes<HTMLButtonElement>) {
  const writes = useWritesEnabled();
  const hydrated = useHydrated();
  const paused = button.type === 'submit' && !reads && !writes;
  return (
    <button
      className={`rounded-md px-4 py-2 text-sm font-semibold text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 disabled:opacity-60 ${
        danger
          ? 'bg-red-700 hover:bg-red-800 focus-visible:ring-red-600'
          : 'bg-brand-600 hover:bg-brand-700 focus-visible:ring-brand-500'
      }`}
      {...button}
      // Not before hydration: nothing it does works yet, and a submit would be the
      // browser's own, a GET with the form's fields in the URL.
      disabled={button.disabled || paused || !hydrated}
      title={paused ? WRITES_PAUSED_MESSAGE : button.title}
    >
      {children}
    </button>
  );
}

/**
 * Loading, error and empty states for a list, in one place. An error shows at once (the
 * queries retry once, quickly: lib/client/live-cache.ts) with a Retry that refetches.
 */
export function ListState({
  isLoading,
  error,
  empty,
  emptyText = 'Nothing here yet.',
  onRetry,
  children,
}: {
  isLoading: boolean;
  error: unknown;
  empty: boolean;
  emptyText?: string;
  /** The query's refetch; by default Retry fetches again every query that failed. */
  onRetry?: () => unknown;
  children: ReactNode;
}) {
  const queryClient = useQueryClient();
  const retry =
    onRetry ??
    (() => queryClient.refetchQueries({ predicate: (query) => query.state.status === 'error' }));
  if (isLoading) return <p className="py-6 text-sm text-slate-500">Loading…</p>;
  if (error)
    return (
      <div role="alert" className="flex flex-wrap items-center gap-3 py-6 text-sm text-red-700">
        <span>Could not load: {(error as Error).message}</span>
        <button
          type="button"
          className="rounded-md border border-red-300 px-3 py-1 font-medium text-red-800 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600"
          onClick={() => void retry()}
        >
          Retry
        </button>
      </div>
    );
  if (empty) return <p className="py-6 text-sm text-slate-500">{emptyText}</p>;
  return <>{children}</>;
}

/** "Load more" under a paged list, while the server has more. */
export function LoadMore({
  list,
}: {
  list: { hasNextPage: boolean; fetchNextPage: () => unknown };
}) {
  return list.hasNextPage ? (
    <button
      type="button"
      className="mt-3 text-sm text-brand-700 underline"
      onClick={() => void list.fetchNextPage()}
    >
      Load more
    </button>
  ) : null;
}
