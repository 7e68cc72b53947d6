'use client';

import { formatMoney, formatPercent } from '@/lib/shared/format';
import { useViewerLocale } from '@/lib/client/use-viewer-locale';

/**
 * An amount from the API's decimal string, in its currency and the viewer's locale,
 * every digit it carries kept (lib/shared/format.ts). The server's HTML formats it in the
 * request's language (use-viewer-locale.ts); the browser's own follows on the client.
 */
export function Money({
  amount,
  currency,
  minDecimals,
  keepDecimals,
  className,
}: {
  amount: string | null | undefined;
  currency?: string | null;
  /** A card's precision: its rates show at least that many decimals. */
  minDecimals?: number;
  /** Every decimal of the string, trailing zeros too (rates, amounts at a card's precision). */
  keepDecimals?: boolean;
  className?: string;
}) {
  const locale = useViewerLocale();
  if (amount === null || amount === undefined || amount === '') return <span>—</span>;
  const text = formatMoney(amount, { currency, locale, minDecimals, keepDecimals });
  return (
    // One amount never wraps: "−€3.03" split after its sign reads as two values.
    <span className={`whitespace-nowrap${className ? ` ${className}` : ''}`} data-amount={amount}>
      {text}
    </span>
  );
}

/** A percentage from a decimal string ("7.5" → 7.5%), in the viewer's locale. */
export function Percent({ value }: { value: string | null | undefined }) {
  const locale = useViewerLocale();
  if (value === null || value === undefined || value === '') return <span>—</span>;
  return <span>{formatPercent(value, locale)}</span>;
}
