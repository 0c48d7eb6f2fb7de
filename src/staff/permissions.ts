import { STAFF_ROLES, type StaffRole } from './store.js';

/**
 * Who may do what. Every staff route and API endpoint names one of these permissions; the route table
 * and the authorization tests are both built from it, so a new route cannot forget to ask.
 */
export const PERMISSIONS = {
  /** Read incidents, campaigns, progress: everyone on the team. */
  'incidents:read': ['admin', 'editor', 'approver', 'agent', 'viewer'],
  'incidents:write': ['admin', 'editor'],
  'people:import': ['admin', 'editor'],
  'campaigns:read': ['admin', 'editor', 'approver', 'agent', 'viewer'],
  /** Create, submit, pause, resume, cancel, retry failed. */
  'campaigns:write': ['admin', 'editor'],
  /** The second pair of eyes: approve or reject. Never the campaign's own creator (see campaigns/lifecycle). */
  'campaigns:approve': ['admin', 'approver'],
  'deliveries:search': ['admin', 'editor', 'agent'],
  /**
   * Names, email addresses, phone numbers and postal addresses in an export (proof of notice, a
   * delivery search's CSV). Searching and exporting need their own permission; this only adds columns.
   */
  'people:contacts': ['admin'],
  'support:manage': ['admin', 'agent'],
  'checklist:write': ['admin', 'editor'],
  'exports:read': ['admin', 'editor', 'approver'],
  'audit:read': ['admin', 'approver'],
  'staff:manage': ['admin'],
  'queues:dashboard': ['admin'],
  'outbox:read': ['admin', 'editor', 'approver', 'agent', 'viewer'],
  /** Create code pools and upload codes (src/codes). Stock is read with incidents:read. */
  'codes:manage': ['admin', 'editor'],
  /** Confirm a code was used: a caller or the vendor says so. */
  'codes:redeem': ['admin', 'editor', 'agent'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: StaffRole, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly StaffRole[]).includes(role);
}

/** Roles whose accounts must use a second factor (they can send to everyone, or change who can). */
export const ROLES_REQUIRING_TOTP: ReadonlySet<StaffRole> = new Set(['admin', 'approver']);

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (STAFF_ROLES as readonly string[]).includes(value);
}

/** An API key may carry the creator's role or a lower one; "lower" is "allowed a subset of permissions". */
export function roleWithin(keyRole: StaffRole, staffRole: StaffRole): boolean {
  return (Object.keys(PERMISSIONS) as Permission[]).every(
    (permission) => !can(keyRole, permission) || can(staffRole, permission),
  );
}
