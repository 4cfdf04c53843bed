import { z } from 'zod';
import { resourceIdOr } from '../../advice/commands';
import { CLOUD_FACTS, CLOUD_NAMES, type CloudName } from '../../catalog/clouds';
import { ROLES } from '../../catalog/roles';
import { comment, sh } from '../../advice/shell';
import { armId, baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';

/** An ARM scope: the probe reads the role assignments there that name this principal. */
export const ArmResourceTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('armResource'),
  resourceId: armId,
  endpoint: httpsUrl('https://management.azure.com').optional(),
});
export type ArmResourceTarget = z.infer<typeof ArmResourceTargetSchema>;

const perCloud = <V>(f: (c: CloudName) => V) => Object.fromEntries(CLOUD_NAMES.map((c) => [c, f(c)])) as Record<CloudName, V>;

export const armResource: TargetKind<ArmResourceTarget, typeof ArmResourceTargetSchema> = {
  kind: 'armResource',
  schema: ArmResourceTargetSchema,
  nouns: { service: 'Azure Resource Manager', short: 'ARM', target: 'ARM scope', hosts: 'Azure Resource Manager', resource: 'resource', sibling: 'resource' },
  componentType: 'system',
  // ARM is the cloud's control plane: its audiences are cloud facts (it also takes the legacy management.core URI).
  audiences: perCloud((c) => CLOUD_FACTS[c].armAudiences),
  hosts: { suffixes: perCloud((c) => new URL(CLOUD_FACTS[c].armEndpoint).hostname), shape: 'exactly' },
  urlField: 'endpoint',
  endpoint: (t, d) => (t.endpoint ?? d.armEndpoint).replace(/\/+$/, ''),
  // The ARM endpoint the operator configured (DIAGNOSE_ARM_ENDPOINT, e.g. Azure Stack Hub) is trusted as configured.
  configuredEndpoint: (d) => d.armEndpoint,
  // roleAssignments.listForScope: Reader's */read covers it.
  operation: {
    description: 'read role assignments at the scope',
    plane: 'control',
    permission: 'Microsoft.Authorization/roleAssignments/read',
    leastRole: ROLES.reader,
  },
  scopes: { grant: () => '', touched: () => '' },
  object: () => 'resource',
  resource: { lookup: () => undefined, text: () => '(no resourceId)' },
  // `error.code` of a 403.
  forbidden: {
    // https://learn.microsoft.com/azure/role-based-access-control/troubleshooting ("does not have authorization to perform action")
    AuthorizationFailed: { cause: 'role_missing', meaning: 'no role assignment grants the action at this scope' },
    // same page: "LinkedAuthorizationFailed" — authorized on one scope, not on a linked one
    LinkedAuthorizationFailed: { cause: 'role_missing', meaning: 'the action is allowed at one scope but not on a linked scope it touches' },
    // https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy (a write refused by Azure Policy)
    RequestDisallowedByPolicy: {
      cause: 'forbidden_other',
      meaning: 'an Azure Policy assignment refuses the request (policy, not a role)',
      fix: (ctx) => [`az policy assignment list --scope ${resourceIdOr(ctx.target.resourceId, undefined)} --query "[].{name:name, policy:policyDefinitionId}" -o table`],
    },
    // https://learn.microsoft.com/azure/cost-management-billing/manage/subscription-disabled ("ReadOnlyDisabledSubscription")
    ReadOnlyDisabledSubscription: { cause: 'resource_disabled', meaning: 'the subscription is disabled and read-only until it is re-enabled' },
  },
  explain: {
    resource_not_found: (ctx) =>
      `ARM answered 404 for ${ctx.target.resourceId}: the identity may read there, but the resource does not exist (moved, renamed or deleted).`,
  },
  fixes: {
    resource_not_found: ({ target: t }) => [`az resource show --ids ${resourceIdOr(t.resourceId, undefined)}`, comment(`fix "resourceId" of target "${t.name}" if the resource was moved or renamed`)],
    resource_disabled: ({ target: t }) => [`az account show --subscription ${sh(t.resourceId.split('/')[2] ?? '')} --query state -o tsv`, comment('re-enable the subscription (billing) before anything else')],
  },
  // Not propagation_pending or grant_ineffective: telling those apart needs the assignments at the scope, and reading
  // them needs the very permission whose absence the probe found (the look-up is refused; role_missing says so).
  causes: [
    'authorized', 'wrong_audience', 'wrong_tenant', 'token_expired', 'role_missing', 'resource_disabled', 'forbidden_other',
    'resource_not_found', 'throttled', 'target_unreachable', 'target_error',
  ],
  loadProbe: async () => (await import('./probe')).probeArmResource,
};
