import type { Priority } from '@temporalio/common';

/**
 * Task-queue priority (1 runs first, 5 last) and fairness of every run the platform starts.
 * Within a priority, tasks are dispatched round-robin by fairness key, the tenant: one tenant's
 * bulk upload cannot queue ahead of another tenant's single document. Activities and child
 * workflows inherit their run's priority. The server must have fairness on
 * (`matching.enableFairness`; scripts/start.sh and docker-compose set it); without it tasks of a
 * priority are dispatched first in, first out.
 */
export const RUN_PRIORITY = {
  /** Someone is waiting on the answer. */
  query: 2,
  /** Uploads and deletions. */
  document: 3,
  /** Re-index and rollback: long, and never ahead of an upload. */
  reindex: 4,
} as const;

export function tenantPriority(tenantId: string, kind: keyof typeof RUN_PRIORITY): Priority {
  return { priorityKey: RUN_PRIORITY[kind], fairnessKey: tenantId };
}
