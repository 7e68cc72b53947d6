'use client';

import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatMoney } from '@/lib/shared/format';
import { countOf, minutesOf } from '@/lib/shared/traffic';
import { accountsChartHeight, DAYS_CHART_HEIGHT } from './chart-heights';

/**
 * The traffic dashboard's charts (recharts). Colours are CSS variables set per theme in
 * app/globals.css (`--chart-*`: at least 3:1 against the card in light and dark, told
 * apart by lightness as well as hue); each figure has its numbers in a table beside it
 * (the chart itself is one image to assistive technology), and its tooltip shows the
 * exact amounts from the API's decimal strings, never the floats the bars are drawn from.
 */
export interface TChartPoint {
  label: string;
  revenue: string;
  cost: string;
  margin: string | null;
  calls: number;
  seconds?: number;
}

const SERIES = [
  { key: 'revenue', name: 'Revenue', colour: 'var(--chart-revenue)' },
  { key: 'cost', name: 'Cost', colour: 'var(--chart-cost)' },
] as const;

const AXIS = { fill: 'var(--chart-axis)', fontSize: 12 };

/** Bars of revenue and cost per account (horizontal: names can be long). */
export function AccountsChart({
  points,
  currency,
  locale,
  caption,
}: {
  points: TChartPoint[];
  currency: string | null;
  locale: string;
  caption: string;
}) {
  const data = points.map((point) => ({
    ...point,
    revenueValue: Number(point.revenue),
    costValue: Number(point.cost),
  }));
  const height = accountsChartHeight(data.length);
  return (
    <div role="img" aria-label={caption} data-testid="traffic-chart-accounts">
      <ResponsiveContainer width="100%" height={height} initialDimension={{ width: 480, height }}>
        <BarChart
          data={data}
          layout="vertical"
          margin={{ top: 4, right: 16, bottom: 4, left: 8 }}
          accessibilityLayer={false}
        >
          <CartesianGrid horizontal={false} stroke="var(--chart-grid)" />
          <XAxis
            type="number"
            tick={AXIS}
            stroke="var(--chart-grid)"
            tickFormatter={(value: number) => compact(value, locale)}
          />
          <YAxis
            type="category"
            dataKey="label"
            width={112}
            tick={AXIS}
            stroke="var(--chart-grid)"
            tickFormatter={(name: string) => (name.length > 16 ? `${name.slice(0, 15)}…` : name)}
          />
          <Tooltip
            cursor={{ fill: 'var(--chart-cursor)' }}
            content={({ active, payload }) => (
              <PointTooltip active={active} payload={payload} currency={currency} locale={locale} />
            )}
          />
          <Legend itemSorter={null} wrapperStyle={{ fontSize: 12, color: 'var(--chart-axis)' }} />
          {SERIES.map((series) => (
            <Bar
              key={series.key}
              dataKey={`${series.key}Value`}
              name={series.name}
              fill={series.colour}
              isAnimationActive={false}
              maxBarSize={18}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Revenue and cost per day, the last days in order. */
export function DaysChart({
  points,
  currency,
  locale,
  caption,
}: {
  points: TChartPoint[];
  currency: string | null;
  locale: string;
  caption: string;
}) {
  const data = points.map((point) => ({
    ...point,
    revenueValue: Number(point.revenue),
    costValue: Number(point.cost),
  }));
  return (
    <div role="img" aria-label={caption} data-testid="traffic-chart-days">
      <ResponsiveContainer
        width="100%"
        height={DAYS_CHART_HEIGHT}
        initialDimension={{ width: 480, height: DAYS_CHART_HEIGHT }}
      >
        <BarChart
          data={data}
          margin={{ top: 4, right: 8, bottom: 4, left: 0 }}
          accessibilityLayer={false}
        >
          <CartesianGrid vertical={false} stroke="var(--chart-grid)" />
          <XAxis
            dataKey="label"
            tick={AXIS}
            stroke="var(--chart-grid)"
            tickFormatter={(day: string) => day.slice(5)}
            interval="preserveStartEnd"
          />
          <YAxis
            tick={AXIS}
            stroke="var(--chart-grid)"
            width={48}
            tickFormatter={(value: number) => compact(value, locale)}
          />
          <Tooltip
            cursor={{ fill: 'var(--chart-cursor)' }}
            content={({ active, payload }) => (
              <PointTooltip active={active} payload={payload} currency={currency} locale={locale} />
            )}
          />
          <Legend itemSorter={null} wrapperStyle={{ fontSize: 12, color: 'var(--chart-axis)' }} />
          {SERIES.map((series) => (
            <Bar
              key={series.key}
              dataKey={`${series.key}Value`}
              name={series.name}
              fill={series.colour}
              isAnimationActive={false}
              maxBarSize={24}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** A point's exact figures: the decimal strings the API sent, formatted. */
function PointTooltip({
  active,
  payload,
  currency,
  locale,
}: {
  active?: boolean;
  payload?: readonly { payload?: unknown }[];
  currency: string | null;
  locale: string;
}) {
  const point = payload?.[0]?.payload as TChartPoint | undefined;
  if (!active || !point) return null;
  const money = (amount: string | null) =>
    amount === null ? '—' : formatMoney(amount, { currency, locale });
  return (
    <div className="rounded-md border border-slate-200 bg-white px-3 py-2 text-xs text-slate-800 shadow-sm">
      <p className="mb-1 font-semibold">{point.label}</p>
      <dl className="grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5">
        <dt>Calls</dt>
        <dd className="text-right tabular-nums">{countOf(point.calls, locale)}</dd>
        {point.seconds !== undefined ? (
          <>
            <dt>Minutes</dt>
            <dd className="text-right tabular-nums">{minutesOf(point.seconds, locale)}</dd>
          </>
        ) : null}
        <dt>
          <Swatch colour="var(--chart-revenue)" />
          Revenue
        </dt>
        <dd className="text-right tabular-nums">{money(point.revenue)}</dd>
        <dt>
          <Swatch colour="var(--chart-cost)" />
          Cost
        </dt>
        <dd className="text-right tabular-nums">{money(point.cost)}</dd>
        <dt>Margin</dt>
        <dd className="text-right tabular-nums">{money(point.margin)}</dd>
      </dl>
    </div>
  );
}

function Swatch({ colour }: { colour: string }) {
  return (
    <span
      aria-hidden="true"
      className="mr-1 inline-block h-2 w-2 rounded-sm"
      style={{ background: colour }}
    />
  );
}

/** Axis ticks: short numbers in the viewer's locale (1.2K). */
function compact(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, { notation: 'compact', maximumSignificantDigits: 3 }).format(
    value,
  );
}
