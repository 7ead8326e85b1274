/** The alert evaluation's activities: thin wrappers over src/monitoring/alerts.ts. */
import { evaluateAlerts, markAlertNotified, type AlertConfig, type AlertNotice } from '../monitoring/alerts';
import type { PrismaClient } from '../platform/db';

export function alertActivities(prisma: PrismaClient, config: AlertConfig) {
  return {
    async evaluateAlerts(): Promise<AlertNotice[]> {
      return evaluateAlerts(prisma, config);
    },
    async markAlertNotified(input: Pick<AlertNotice, 'alertId' | 'kind'>): Promise<void> {
      await markAlertNotified(prisma, input);
    },
  };
}
