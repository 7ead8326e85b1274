/**
 * Maintenance mode (the runbook's "Enable maintenance mode"): while it is on, storefront writes
 * (checkout, payment retries, refund and return requests) answer 503 MAINTENANCE with
 * Retry-After, while reads, admin routes, webhooks and workflows go on, because money that
 * arrives must never bounce. The flag lives in the database so that every API replica sees it;
 * each replica caches it for MAINTENANCE_CACHE_TTL so that the flag costs no query per request.
 */
import { randomUUID } from 'node:crypto';
import { audit } from '../access/audit';
import type { PrismaClient } from '../platform/db';

const KEY = 'maintenance_mode';

export interface MaintenanceState {
  enabled: boolean;
  reason?: string;
  updatedBy?: string;
  updatedAt?: string;
}

export async function maintenanceState(prisma: Pick<PrismaClient, 'systemSetting'>): Promise<MaintenanceState> {
  const setting = await prisma.systemSetting.findUnique({ where: { key: KEY } });
  if (!setting) return { enabled: false };
  return {
    enabled: setting.value === true,
    reason: setting.reason,
    updatedBy: setting.updatedBy,
    updatedAt: setting.updatedAt.toISOString(),
  };
}

/** Switches maintenance mode, audited; answers the new state and the audit entry's id. */
export async function setMaintenance(
  prisma: PrismaClient,
  enabled: boolean,
  reason: string,
  actorId: string,
): Promise<MaintenanceState & { auditId: string }> {
  const auditId = randomUUID();
  const after = await prisma.$transaction(async (tx) => {
    const before = await maintenanceState(tx);
    await tx.systemSetting.upsert({
      where: { key: KEY },
      update: { value: enabled, reason, updatedBy: actorId },
      create: { key: KEY, value: enabled, reason, updatedBy: actorId },
    });
    const state = await maintenanceState(tx);
    await audit(tx, {
      id: auditId,
      actorId,
      action: enabled ? 'MAINTENANCE_ENABLED' : 'MAINTENANCE_DISABLED',
      targetType: 'system_settings',
      targetId: KEY,
      reason,
      before,
      after: state,
    });
    return state;
  });
  return { ...after, auditId };
}

/** The admins' email for a switch of maintenance mode. */
export function maintenanceNotice(state: MaintenanceState & { auditId: string }) {
  return {
    key: `maintenance-${state.auditId}`,
    subject: state.enabled ? 'Maintenance mode is ON' : 'Maintenance mode is off',
    text:
      `Maintenance mode was switched ${state.enabled ? 'on' : 'off'} by ${state.updatedBy} at ${state.updatedAt}: ${state.reason}.\n` +
      (state.enabled
        ? 'Storefront writes (checkout, payment retries, refund and return requests) answer 503 MAINTENANCE; reads, admin routes and webhooks go on.\n' +
          'Switch it off with POST /admin/system/maintenance {"enabled": false, "reason": "..."} or npm run ops -- system maintenance off --reason "..."\n'
        : 'The storefront takes orders again.\n'),
  };
}

/** The flag as one replica sees it: read from the database at most once per `ttlMs`. */
export class MaintenanceFlag {
  private cached?: { state: MaintenanceState; until: number };

  constructor(
    private readonly prisma: Pick<PrismaClient, 'systemSetting'>,
    private readonly ttlMs: number,
  ) {}

  async current(): Promise<MaintenanceState> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.state;
    try {
      const state = await maintenanceState(this.prisma);
      this.cached = { state, until: Date.now() + this.ttlMs };
      return state;
    } catch (error) {
      // The database is down: keep the last known state; with none, the route itself answers 503.
      if (this.cached) return this.cached.state;
      throw error;
    }
  }

  /** This replica has just switched it: no need to wait for the cache. */
  remember(state: MaintenanceState): void {
    this.cached = { state, until: Date.now() + this.ttlMs };
  }
}
