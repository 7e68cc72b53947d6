/**
 * The traffic charts' heights, known before their code has loaded: the room held for a
 * chart while recharts arrives is the room it takes, so nothing below it jumps.
 */
export const accountsChartHeight = (bars: number): number => 56 + bars * 44;
export const DAYS_CHART_HEIGHT = 220;
