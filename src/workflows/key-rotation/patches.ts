/**
 * The key rotation workflow's patch ids, each with its reason: changes made while rotations were
 * running, guarded with patched() so the histories of rotations started before them replay unchanged.
 */

/** The verified key is audited (KEY_VERIFIED) before it is promoted. */
export const KEY_ROTATION_VERIFIED_AUDIT = 'key-rotation-verified-audit';
/**
 * A manual step confirmed from the Web UI is recorded under the admin account it names (by id or
 * email, resolved by the activity), and audited as sent through Temporal; before, the name as
 * typed was recorded, and an email was refused.
 */
export const MANUAL_STEP_RECORDS_RESOLVED_ADMIN = 'manual-step-records-resolved-admin';
/**
 * Who a manual step's confirmation names is asked of the one active-admin check shared with
 * refunds and orders (activeAdminNamed, instead of resolveActiveAdmin or isActiveAdmin). Same
 * answer; only the activity's name changes.
 */
export const KEY_ROTATION_ONE_ADMIN_CHECK = 'key-rotation-one-admin-check';
