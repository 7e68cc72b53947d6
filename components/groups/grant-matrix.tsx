import { useId } from 'react';
import type { UseFormRegisterReturn } from 'react-hook-form';
import {
  ACTIONS,
  ALL_GRANTS,
  EXTRA_GRANTS,
  RESOURCES,
  type TExtraGrant,
  type TGrant,
} from '@/lib/shared/permissions';

/**
 * The grant catalog as a resource × action matrix plus the grants outside it (`EXTRA_GRANTS`). As a form
 * control (checkboxes named `grants`) a grant the signed-in person does not hold is
 * disabled — no escalation (DESIGN §1); a group holding such a grant is not offered for
 * editing at all (the server refuses it too). `readOnly` shows a user's effective
 * permissions as ticks. `field`: the form's `register('grants')`.
 */
export function GrantMatrix({
  held,
  checked = [],
  readOnly = false,
  label,
  field,
}: {
  held: readonly string[];
  checked?: readonly string[];
  readOnly?: boolean;
  label: string;
  field?: UseFormRegisterReturn<'grants'>;
}) {
  const holds = new Set(held);
  const withheldNote = useId();
  const has = new Set(checked);
  const cell = (grant: TGrant) =>
    readOnly ? (
      <span role="img" aria-label={`${grant}: ${has.has(grant) ? 'yes' : 'no'}`}>
        {has.has(grant) ? '✓' : <span className="text-slate-400">·</span>}
      </span>
    ) : (
      <input
        type="checkbox"
        name="grants"
        {...field}
        value={grant}
        aria-label={grant}
        defaultChecked={has.has(grant)}
        disabled={!holds.has(grant)}
        aria-describedby={holds.has(grant) ? undefined : withheldNote}
        title={
          holds.has(grant) ? undefined : `${grant}: not in your own group, so not yours to give`
        }
        // Dimmed, as a disabled box alone is not told apart in the dark theme.
        className="h-4 w-4 disabled:cursor-not-allowed disabled:opacity-30"
      />
    );
  const withheld = !readOnly && ALL_GRANTS.some((grant) => !holds.has(grant));
  return (
    <fieldset>
      <legend className="text-sm font-medium text-slate-700">{label}</legend>
      {withheld ? (
        <p id={withheldNote} className="mt-1 text-xs text-slate-600">
          Dimmed: grants your own group does not hold, which you cannot give.
        </p>
      ) : null}
      <div className="overflow-x-auto">
        <table className="mt-2 text-xs">
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Resource</span>
              </th>
              {ACTIONS.map((action) => (
                <th key={action} scope="col" className="px-2 font-medium text-slate-600">
                  {action}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {RESOURCES.map((resource) => (
              <tr key={resource}>
                <th scope="row" className="pr-2 text-left font-medium text-slate-700">
                  {resource}
                </th>
                {ACTIONS.map((action) => (
                  <td key={action} className="px-2 py-0.5 text-center">
                    {cell(`${resource}:${action}` as TGrant)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {(Object.entries(EXTRA_GRANTS) as [TExtraGrant, string][]).map(([grant, what]) => (
        <div key={grant} className="mt-2 flex items-center gap-2 text-xs text-slate-700">
          {cell(grant)}
          <span className={readOnly || holds.has(grant) ? undefined : 'text-slate-500'}>
            {grant} ({what})
          </span>
        </div>
      ))}
    </fieldset>
  );
}
