/**
 * Well-known Microsoft Graph application permissions (app roles of Microsoft Graph's service principal): data only.
 * A managed identity gets one by an app role assignment (not an Azure role); the token for Graph then lists its value
 * in the `roles` claim. The ids are the same in every tenant and cloud.
 *
 * Source of every id (GRAPH-IDS): microsoftgraph/microsoft-graph-docs-contrib `concepts/includes/permissions-ids.md`
 * (https://learn.microsoft.com/graph/permissions-reference, "All permissions and IDs"), rows of type Application;
 * also shared/reference/services-and-hosts.md §8.
 */

/** Microsoft Graph's application id: the same in every tenant (its service principal's object id is not). */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface GraphAppRole {
  /** The permission as the `roles` claim and the Graph docs name it ("User.Read.All"). */
  value: string;
  /** The app role id an app role assignment names (`appRoleId`). */
  id: string;
  /** What it allows, in a few words. */
  allows: string;
}

export const GRAPH_APP_ROLES: readonly GraphAppRole[] = [
  { value: 'User.Read.All', id: 'df021288-bdef-4463-88db-98f22de89214', allows: 'read all users\' full profiles' },
  { value: 'Group.Read.All', id: '5b567255-7703-4780-807c-7be8301ae99b', allows: 'read all groups' },
  { value: 'GroupMember.Read.All', id: '98830695-27a2-44f7-8c18-0c3ebc9698f6', allows: 'read all group memberships' },
  { value: 'Directory.Read.All', id: '7ab1d382-f21e-4acd-a863-ba3e13f7da61', allows: 'read directory data' },
  { value: 'Application.Read.All', id: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', allows: 'read all applications and service principals (and their app role assignments)' },
  { value: 'Sites.Read.All', id: '332a536c-c7ef-4017-ab91-336970924f0d', allows: 'read items in all site collections' },
  { value: 'Mail.Read', id: '810c84a8-4a9e-49e6-bf7d-12d183f40d01', allows: 'read mail in all mailboxes' },
  { value: 'AuditLog.Read.All', id: 'b0afded3-3588-46d8-8b3d-9842eff778da', allows: 'read all audit log data' },
];

/** The well-known app role of a permission value (case-insensitive, as Graph compares them), if listed. */
export function graphAppRole(value: string): GraphAppRole | undefined {
  const v = value.toLowerCase();
  return GRAPH_APP_ROLES.find((r) => r.value.toLowerCase() === v);
}

/** The well-known app role with this id, if listed. */
export function graphAppRoleById(id: string): GraphAppRole | undefined {
  const v = id.toLowerCase();
  return GRAPH_APP_ROLES.find((r) => r.id === v);
}

/**
 * The application permissions that may read a service principal's app role assignments
 * (GET /servicePrincipals/{id}/appRoleAssignments): least privileged Application.Read.All; higher ones as listed by
 * https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments ("Permissions", Application row).
 */
export const READ_APP_ROLE_ASSIGNMENTS = ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'Directory.Read.All', 'Directory.ReadWrite.All'] as const;
