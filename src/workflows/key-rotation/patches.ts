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
/**
 * A manual step confirmed by update (the API, or the CLI's `temporal workflow update execute`, the
 * Web UI's update form) is checked by the one active-admin check like the signal (a suspended or
 * unknown admin is refused with NOT_AN_ADMIN and nothing changes), recorded under the account it
 * resolves to, and audited by the workflow (KEY_MANUAL_STEP_CONFIRMED, once per step): the API's
 * sealed update as the API's, any other with `via: temporal-update` and the name as typed. The
 * step says so (audited); the API audits only a confirmation its workflow did not (one without
 * this patch), under the same id. Before, the update checked nobody and only the API audited, so
 * a confirmation typed into Temporal had no audit entry. Deploy the API before the workers: an API
 * of the release before does not seal its confirmations and audits every one itself.
 */
export const MANUAL_STEP_UPDATE_AUDITED = 'manual-step-update-audited';
