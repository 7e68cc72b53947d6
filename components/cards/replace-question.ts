import type { TConfirmRequest } from '@/components/ui/confirm-dialog';

/**
 * What a replacing import asks before it writes, on the card page and on its Revisions
 * tab (a revision going live now): the file's rates become the card's whole set at once,
 * every prefix it lacks goes, and the cards derived from it follow.
 */
export function replaceRatesQuestion(cardName: string, fileName: string): TConfirmRequest {
  return {
    title: `Replace every rate of ${cardName}?`,
    consequence: `The rates in ${fileName} become the card's whole set now: every prefix the file does not list is removed, and the cards derived from it follow at once. To add or update only the file's rows, choose Merge; to pick a date, schedule a revision.`,
    confirmLabel: 'Replace rates',
    danger: true,
  };
}
