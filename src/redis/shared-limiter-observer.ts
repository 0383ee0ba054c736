/**
 * Told of what the shared mailbox limit does; the gateway's metrics implement it. redis/ owns it,
 * so that metrics/ imports this interface only (type-only) and never loads redis/.
 */
export interface SharedLimiterObserver {
  /** One round trip to Redis, and whether it answered (`budget`: the mailbox budgets' check, shared-mailbox-budget.ts). */
  redisRoundTrip(operation: 'acquire' | 'release' | 'pause' | 'refresh' | 'ping' | 'budget', seconds: number, ok: boolean): void;
  /** The limit fell back to this process (Redis unavailable). */
  fellBack(): void;
  /** Leases of this replica found expired or gone at a refresh. */
  leasesLost(count: number): void;
  /** Whether the limit is shared right now. */
  sharedState(shared: boolean): void;
}
