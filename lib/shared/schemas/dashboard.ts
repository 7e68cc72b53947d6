/** `GET /dashboard`: how many of each the caller sees; null where its group grants no read. */
export interface TDashboardCounts {
  resellers: number | null;
  customers: number | null;
  users: number | null;
  cards: number | null;
}
