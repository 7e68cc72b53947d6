'use client';

import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';

export interface TConfirmRequest {
  /** The question, naming the thing: "Suspend Acme Voice?" */
  title: string;
  /** The consequence in a sentence: "Its 3 customers and its users lose access until resumed." */
  consequence: string;
  /** The confirming button's text: "Suspend". */
  confirmLabel: string;
  /** Danger styling (red) for what cannot be taken back or cuts someone off. */
  danger?: boolean;
}

/**
 * A modal confirmation (role alertdialog) on the native <dialog>: the browser keeps focus
 * inside it and makes the page behind inert, Escape cancels; labelled by its title,
 * described by its consequence. Centred by `m-auto` (the reset CSS drops the browser's
 * own margin). Focus starts on Cancel — the safe choice — and returns to what had it.
 */
export function ConfirmDialog({
  request,
  onAnswer,
}: {
  request: TConfirmRequest | null;
  onAnswer: (confirmed: boolean) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);
  const id = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) {
      returnTo.current = document.activeElement as HTMLElement | null;
      dialog.showModal();
      cancelRef.current?.focus();
    } else if (!request && dialog.open) {
      dialog.close();
    }
  }, [request]);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // Escape (the browser's `cancel`) and any other close: answer "no", give focus back.
    const onClose = () => {
      returnTo.current?.focus?.();
      returnTo.current = null;
    };
    const onCancel = (event: Event) => {
      event.preventDefault();
      onAnswer(false);
    };
    dialog.addEventListener('close', onClose);
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('close', onClose);
      dialog.removeEventListener('cancel', onCancel);
    };
  }, [onAnswer]);
  const danger = request?.danger ?? true;
  return (
    <dialog
      ref={ref}
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-consequence`}
      aria-modal="true"
      data-testid="confirm-dialog"
      className="m-auto w-full max-w-md rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/40"
    >
      {request ? (
        <div className="space-y-4 p-5">
          <h2 id={`${id}-title`} className="text-base font-semibold">
            {request.title}
          </h2>
          <p id={`${id}-consequence`} className="text-sm text-slate-700">
            {request.consequence}
          </p>
          <div className="flex justify-end gap-2">
            <button
              ref={cancelRef}
              type="button"
              className="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium text-slate-800 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
              onClick={() => onAnswer(false)}
            >
              Cancel
            </button>
            <button
              type="button"
              data-danger={danger ? 'true' : undefined}
              className={`rounded-md px-4 py-2 text-sm font-semibold text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 ${
                danger
                  ? 'bg-red-700 hover:bg-red-800 focus-visible:ring-red-600'
                  : 'bg-brand-600 hover:bg-brand-700 focus-visible:ring-brand-500'
              }`}
              onClick={() => onAnswer(true)}
            >
              {request.confirmLabel}
            </button>
          </div>
        </div>
      ) : null}
    </dialog>
  );
}

/**
 * Asks before acting: `if (!(await confirm({...}))) return;` and render `dialog` once.
 * Nothing happens until the person confirms; Cancel and Escape answer false.
 */
export function useConfirm(): {
  confirm: (request: TConfirmRequest) => Promise<boolean>;
  dialog: ReactNode;
} {
  const [pending, setPending] = useState<{
    request: TConfirmRequest;
    resolve: (confirmed: boolean) => void;
  } | null>(null);
  const confirm = useCallback(
    (request: TConfirmRequest) =>
      new Promise<boolean>((resolve) => setPending({ request, resolve })),
    [],
  );
  const onAnswer = useCallback(
    (confirmed: boolean) => {
      pending?.resolve(confirmed);
      setPending(null);
    },
    [pending],
  );
  return {
    confirm,
    dialog: <ConfirmDialog request={pending?.request ?? null} onAnswer={onAnswer} />,
  };
}
