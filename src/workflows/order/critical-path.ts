/**
 * The order's short database steps between checkout and CONFIRMED, where a customer or a
 * storefront waits (reserving the stock; confirming the order): local activities since
 * CRITICAL_PATH_LOCAL_ACTIVITIES, the same activities through the task queue in the histories of
 * orders started before it (so they replay unchanged).
 */
import { patched } from '@temporalio/workflow';
import { activitiesFor, localActivitiesFor } from '../policies';
import { CRITICAL_PATH_LOCAL_ACTIVITIES } from './patches';

// Only steps no patched() follows in the same workflow task (policies.ts says why).
const steps = ['createOrderAndReserveStock', 'confirmOrder'] as const;
const queued = activitiesFor(...steps);
const local = localActivitiesFor(...steps);

/** Whether this order runs its critical path's steps as local activities. */
export function criticalPathIsLocal(): boolean {
  return patched(CRITICAL_PATH_LOCAL_ACTIVITIES);
}

/** The critical path's steps, as this order runs them. */
export function criticalPath(): typeof queued {
  return criticalPathIsLocal() ? local : queued;
}
