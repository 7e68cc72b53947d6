import type { UseFormRegisterReturn } from 'react-hook-form';
import {
  ACTIONS,
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
        className="h-4 w-4"
      />
    );
  return (
    <fieldset>
      <legend className="text-sm font-medium text-slate-700">{label}</legend>
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
          <span>
            {grant} ({what})
          </span>
        </div>
      ))}
    </fieldset>
  );
}
