'use client';

import { useState, type FormEvent } from 'react';
import { queryKeys } from '@/lib/client/query-keys';
import { useApiMutation } from '@/lib/client/use-resource';
import { RULE_MODES, type TMarkupRule, type TRuleMode } from '@/lib/shared/pricing/markup';
import { ZCardPatch, type TCardOwnerDto } from '@/lib/shared/schemas/cards';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';

/** The card's own billing structure as typed: empty text is the parent's, per row. */
export interface TStructureText {
  initialIncrement: string;
  increment: string;
  graceSeconds: string;
  minimumSeconds: string;
}

/** A whole number of seconds as the API takes it, or the text itself for the schema to refuse. */
export function secondsOrNull(text: string): number | string | null {
  const value = text.trim();
  if (value === '') return null;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/**
 * Markup rules by prefix (issue 16 §3), added and removed as rows: the longest rule
 * covering a prefix prices it, an override before it.
 */
export function RulesEditor({
  rules,
  onChange,
  idPrefix,
}: {
  rules: TMarkupRule[];
  onChange: (rules: TMarkupRule[]) => void;
  idPrefix: string;
}) {
  const set = (index: number, change: Partial<TMarkupRule>) =>
    onChange(rules.map((rule, at) => (at === index ? { ...rule, ...change } : rule)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700">Rules by prefix</legend>
      {rules.map((rule, index) => (
        <div key={index} className="flex items-end gap-2" data-testid="markup-rule">
          <TextField
            id={`${idPrefix}-rule-${index}-prefix`}
            label="Prefix"
            name={`rules.${index}.prefix`}
            inputMode="numeric"
            value={rule.prefix}
            onChange={(event) => set(index, { prefix: event.target.value })}
          />
          <div>
            <label
              htmlFor={`${idPrefix}-rule-${index}-mode`}
              className="block text-sm font-medium text-slate-700"
            >
              Mode
            </label>
            <select
              id={`${idPrefix}-rule-${index}-mode`}
              name={`rules.${index}.mode`}
              className="mt-1 rounded-md border-slate-300 text-sm"
              value={rule.mode}
              onChange={(event) => set(index, { mode: event.target.value as TRuleMode })}
            >
              {RULE_MODES.map((mode) => (
                <option key={mode} value={mode}>
                  {mode === 'percent' ? '% on buy' : mode === 'fixed' ? '+ per min' : 'rate'}
                </option>
              ))}
            </select>
          </div>
          <TextField
            id={`${idPrefix}-rule-${index}-value`}
            label="Value"
            name={`rules.${index}.value`}
            inputMode="decimal"
            value={rule.value}
            onChange={(event) => set(index, { value: event.target.value })}
          />
          <button
            type="button"
            className="mb-1 text-sm text-red-700 underline"
            onClick={() => onChange(rules.filter((_, at) => at !== index))}
            aria-label={`Remove rule ${rule.prefix || index + 1}`}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        className="text-sm text-brand-700 underline"
        onClick={() => onChange([...rules, { prefix: '', mode: 'percent', value: '' }])}
      >
        Add a rule
      </button>
    </fieldset>
  );
}

/** The billing structure fields and the fee switch, shared by derive and edit. */
export function StructureFields({
  idPrefix,
  structure,
  onChange,
  markupFee,
  onMarkupFee,
  errors = {},
}: {
  idPrefix: string;
  structure: TStructureText;
  onChange: (structure: TStructureText) => void;
  markupFee: boolean;
  onMarkupFee: (value: boolean) => void;
  errors?: Record<string, string | undefined>;
}) {
  const field = (key: keyof TStructureText, label: string) => (
    <TextField
      id={`${idPrefix}-${key}`}
      label={label}
      name={key}
      inputMode="numeric"
      placeholder="parent's"
      value={structure[key]}
      error={errors[key]}
      onChange={(event) => onChange({ ...structure, [key]: event.target.value })}
    />
  );
  return (
    <>
      <div className="grid grid-cols-4 gap-2">
        {field('initialIncrement', 'Initial (s)')}
        {field('increment', 'Increment (s)')}
        {field('graceSeconds', 'Grace (s)')}
        {field('minimumSeconds', 'Minimum (s)')}
      </div>
      <div className="flex items-center gap-2">
        <input
          id={`${idPrefix}-markup-fee`}
          type="checkbox"
          checked={markupFee}
          onChange={(event) => onMarkupFee(event.target.checked)}
          className="h-4 w-4 rounded border-slate-300 text-brand-600 focus:ring-brand-500"
        />
        <label htmlFor={`${idPrefix}-markup-fee`} className="text-sm text-slate-700">
          Mark up the connection fee too
        </label>
      </div>
    </>
  );
}

const text = (value: number | null) => (value === null ? '' : String(value));

/** A derived card's selling terms, edited in place (PATCH): markup, structure, fee, rules. */
export function SellTermsForm({ card }: { card: TCardOwnerDto }) {
  const markup = card.markup!;
  const [percent, setPercent] = useState(markup.percent ?? '');
  const [fixed, setFixed] = useState(markup.fixed ?? '');
  const [structure, setStructure] = useState<TStructureText>({
    initialIncrement: text(markup.initialIncrement),
    increment: text(markup.increment),
    graceSeconds: text(markup.graceSeconds),
    minimumSeconds: text(markup.minimumSeconds),
  });
  const [markupFee, setMarkupFee] = useState(markup.fee);
  const [rules, setRules] = useState<TMarkupRule[]>(markup.rules);
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [message, setMessage] = useState<string | null>(null);
  const save = useApiMutation<unknown, TCardOwnerDto>(
    'PATCH',
    `/cards/${card.id}`,
    [queryKeys.one('cards', card.id)],
    { success: (saved) => `Selling terms saved: ${saved.losingRates} losing row(s).` },
  );
  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setMessage(null);
    const body = {
      version: card.version,
      markupPercent: percent.trim() === '' ? null : percent.trim(),
      markupFixed: fixed.trim() === '' ? null : fixed.trim(),
      initialIncrement: secondsOrNull(structure.initialIncrement),
      increment: secondsOrNull(structure.increment),
      graceSeconds: secondsOrNull(structure.graceSeconds),
      minimumSeconds: secondsOrNull(structure.minimumSeconds),
      markupFee,
      rules,
    };
    const checked = ZCardPatch.safeParse(body);
    if (!checked.success) {
      const found: Record<string, string> = {};
      for (const issue of checked.error.issues) found[issue.path.join('.')] ??= issue.message;
      setErrors(found);
      setMessage(
        Object.entries(found)
          .map(([field, reason]) => `${field}: ${reason}`)
          .join('; '),
      );
      return;
    }
    setErrors({});
    try {
      await save.mutateAsync(checked.data);
    } catch (error) {
      setMessage((error as Error).message);
    }
  }
  return (
    <form onSubmit={onSubmit} className="space-y-3" aria-label="Selling terms" noValidate>
      <h3 className="text-sm font-semibold text-slate-700">Selling terms</h3>
      <TextField
        id="terms-percent"
        label="Markup %"
        name="markupPercent"
        inputMode="decimal"
        value={percent}
        error={errors.markupPercent}
        onChange={(event) => setPercent(event.target.value)}
      />
      <TextField
        id="terms-fixed"
        label="Markup per minute"
        name="markupFixed"
        inputMode="decimal"
        value={fixed}
        error={errors.markupFixed}
        onChange={(event) => setFixed(event.target.value)}
      />
      <StructureFields
        idPrefix="terms"
        structure={structure}
        onChange={setStructure}
        markupFee={markupFee}
        onMarkupFee={setMarkupFee}
        errors={errors}
      />
      <RulesEditor rules={rules} onChange={setRules} idPrefix="terms" />
      <FormMessage message={message} />
      <Button type="submit" disabled={save.isPending}>
        Save selling terms
      </Button>
    </form>
  );
}
