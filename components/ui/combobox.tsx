'use client';

import { useId, useRef, useState, type KeyboardEvent } from 'react';

export interface TComboOption {
  id: string;
  label: string;
  /** A second line (kind, parent): helps tell two of the same name apart. */
  detail?: string;
}

/**
 * A text input that filters a list of options fetched elsewhere (WAI-ARIA combobox with
 * a listbox popup): the input is `role="combobox"` with `aria-expanded`, `aria-controls`
 * and `aria-activedescendant`; ArrowDown/ArrowUp move through the options (opening the
 * list), Enter picks the active one, Escape closes the list (a second Escape clears the
 * text). Reaching the end of the list asks for more (`onLoadMore`), so every record the
 * search can return is reachable by keyboard and by scrolling.
 */
export function Combobox({
  id: givenId,
  label,
  query,
  onQueryChange,
  options,
  value,
  onChange,
  loading = false,
  hasMore = false,
  onLoadMore,
  failed = false,
  onRetry,
  error,
  placeholder,
  disabled = false,
  required = false,
}: {
  id?: string;
  label: string;
  /** The text typed: the caller searches with it. */
  query: string;
  onQueryChange: (query: string) => void;
  options: TComboOption[];
  /** The chosen option (shown in the input while it is not being edited). */
  value: TComboOption | null;
  onChange: (option: TComboOption | null) => void;
  loading?: boolean;
  hasMore?: boolean;
  onLoadMore?: () => void;
  /**
   * The search could not be read (the server away a moment): said so, with a retry,
   * never shown as "No match" — which would tell the person the record does not exist.
   */
  failed?: boolean;
  onRetry?: () => void;
  error?: string;
  placeholder?: string;
  disabled?: boolean;
  required?: boolean;
}) {
  const generated = useId();
  const id = givenId ?? `combo-${generated.replace(/:/g, '')}`;
  const listId = `${id}-listbox`;
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  const [active, setActive] = useState(-1);
  const listRef = useRef<HTMLUListElement>(null);
  /** Entered by a click: its mouseup must not undo the selection made on focus. */
  const keepSelection = useRef(false);
  const shown = editing ? query : (value?.label ?? query);

  function move(to: number) {
    if (!options.length) return;
    const next = Math.max(0, Math.min(options.length - 1, to));
    setActive(next);
    if (next >= options.length - 1 && hasMore) onLoadMore?.();
    document.getElementById(`${id}-option-${next}`)?.scrollIntoView?.({ block: 'nearest' });
  }

  function pick(option: TComboOption) {
    onChange(option);
    setEditing(false);
    setOpen(false);
    setActive(-1);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open) setOpen(true);
        move(active + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        if (!open) setOpen(true);
        move(active <= 0 ? 0 : active - 1);
        break;
      case 'Home':
      case 'End':
        if (open && options.length) {
          event.preventDefault();
          move(event.key === 'Home' ? 0 : options.length - 1);
        }
        break;
      case 'Enter':
        if (open && active >= 0 && options[active]) {
          event.preventDefault();
          pick(options[active]);
        } else if (failed && !options.length) {
          event.preventDefault();
          onRetry?.();
        }
        break;
      case 'Escape':
        if (open) {
          event.preventDefault();
          setOpen(false);
          setActive(-1);
        } else if (shown) {
          event.preventDefault();
          onQueryChange('');
          onChange(null);
        }
        break;
    }
  }

  return (
    <div className="relative">
      <label htmlFor={id} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        type="text"
        role="combobox"
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && active >= 0 ? `${id}-option-${active}` : undefined}
        aria-invalid={Boolean(error)}
        aria-describedby={error ? `${id}-error` : undefined}
        aria-required={required || undefined}
        autoComplete="off"
        disabled={disabled}
        placeholder={placeholder ?? 'Type to search…'}
        value={shown}
        onChange={(event) => {
          setEditing(true);
          setOpen(true);
          setActive(-1);
          onQueryChange(event.target.value.slice(0, 200));
          if (value) onChange(null);
        }}
        // The text is selected as the field is entered, so what is typed starts a new
        // search instead of running on after the chosen name ("Demo CarrierHarb"). The
        // mouseup of the click that focused it would put the caret back: not that one.
        onFocus={(event) => {
          setOpen(true);
          // Opened again after a failed search: it is read again.
          if (failed) onRetry?.();
          event.currentTarget.select();
          keepSelection.current = true;
        }}
        onMouseUp={(event) => {
          if (keepSelection.current) event.preventDefault();
          keepSelection.current = false;
        }}
        onClick={() => setOpen(true)}
        onBlur={() => {
          setOpen(false);
          setEditing(false);
          keepSelection.current = false;
        }}
        onKeyDown={onKeyDown}
        className="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500 aria-[invalid=true]:border-red-500"
      />
      <ul
        ref={listRef}
        id={listId}
        role="listbox"
        aria-label={label}
        hidden={!open}
        onScroll={(event) => {
          const list = event.currentTarget;
          if (hasMore && list.scrollTop + list.clientHeight >= list.scrollHeight - 24) {
            onLoadMore?.();
          }
        }}
        className="absolute z-20 mt-1 max-h-64 w-full overflow-y-auto rounded-md border border-slate-200 bg-white py-1 text-sm shadow-lg"
      >
        {options.map((option, index) => (
          <li
            key={option.id}
            id={`${id}-option-${index}`}
            role="option"
            aria-selected={value?.id === option.id}
            // Picking on mousedown: a click would first blur the input and close the list.
            onMouseDown={(event) => {
              event.preventDefault();
              pick(option);
            }}
            onMouseMove={() => setActive(index)}
            className={`cursor-pointer px-3 py-1.5 ${
              index === active ? 'bg-brand-50 text-brand-900' : 'text-slate-800'
            }`}
          >
            {option.label}
            {option.detail ? (
              <span className="ml-2 text-xs text-slate-500">{option.detail}</span>
            ) : null}
          </li>
        ))}
        {options.length === 0 && failed && !loading ? (
          // Over the alert below while open: a click here (or Enter) asks again.
          <li
            role="presentation"
            className="cursor-pointer px-3 py-1.5 text-red-700"
            onMouseDown={(event) => {
              event.preventDefault();
              onRetry?.();
            }}
          >
            The search failed: click or press Enter to try again.
          </li>
        ) : options.length === 0 ? (
          <li role="presentation" className="px-3 py-1.5 text-slate-500">
            {loading ? 'Searching…' : 'No match'}
          </li>
        ) : loading || hasMore ? (
          <li role="presentation" className="px-3 py-1.5 text-xs text-slate-500">
            {loading ? 'Loading more…' : 'More below: scroll or keep typing'}
          </li>
        ) : null}
      </ul>
      {failed && !loading ? (
        <p className="mt-1 text-xs text-red-700" role="alert">
          The search could not be read.{' '}
          <button
            type="button"
            className="underline"
            // Not on mousedown's blur: the list stays open for the answer.
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => onRetry?.()}
          >
            Try again
          </button>
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-xs text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
