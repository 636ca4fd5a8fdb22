import type { UsageLedger } from '../stores/usage-ledger';

/** A day of calls; fewer than this many and the configured figure stands. */
const WINDOW_MS = 86_400_000;
export const MIN_CALLS = 5;
const FRESH_MS = 60_000;

/**
 * Each candidate's median latency over the last day of successful calls (the usage ledger),
 * read at most once a minute: routing by `fastest` uses what the models really did.
 */
export function measuredLatencies(ledger: Pick<UsageLedger, 'chatLatencies'>, now: () => number = Date.now): () => Promise<ReadonlyMap<string, number>> {
  let cached: { at: number; value: Promise<Map<string, number>> } | undefined;
  return () => {
    if (!cached || now() - cached.at > FRESH_MS) {
      const value = ledger.chatLatencies(new Date(now() - WINDOW_MS), MIN_CALLS).then((measured) => new Map([...measured].map(([name, m]) => [name, m.p50])));
      // A failed read is not kept: the next answer asks again.
      value.catch(() => (cached = undefined));
      cached = { at: now(), value };
    }
    return cached.value;
  };
}
