import type { Settings, Target } from '../config';
import type { Claims, HostKind } from '../verdict';
import { OPERATIONS } from './operations';

/**
 * Builders for the `az` lines a fix is made of, with real values filled in wherever the host, the token or the target
 * configuration knows them, and a look-up sub-command where they do not. Never a client secret: the fix is always an
 * assignment or a role.
 */

export interface CommandContext {
  target: Target;
  settings: Settings;
  claims?: Claims;
  hostKind: HostKind;
}

const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`);

/** The CLI group for the host (`az functionapp`, `az webapp`, …) and its name and resource group. */
export function hostCli(ctx: CommandContext): { group: string; name: string; rg: string } {
  const p = ctx.settings.platform;
  const group =
    ctx.hostKind === 'containerApps' ? 'containerapp' : ctx.hostKind === 'appService' ? 'webapp' : ctx.hostKind === 'vm' ? 'vm' : 'functionapp';
  return {
    group,
    name: p.containerAppName ?? p.siteName ?? '<app-name>',
    rg: p.resourceGroup ?? '<resource-group>',
  };
}

/** The principal (object id) to grant: the token's oid when we saw one, else a look-up of the host's identity. */
export function assignee(ctx: CommandContext): string {
  if (ctx.claims?.oid) return ctx.claims.oid;
  if (ctx.settings.expectedPrincipalId) return ctx.settings.expectedPrincipalId;
  if (ctx.settings.clientId) return `$(az identity list --query "[?clientId=='${ctx.settings.clientId}'].principalId" -o tsv)`;
  const h = hostCli(ctx);
  return `$(az ${h.group} identity show -g ${q(h.rg)} -n ${q(h.name)} --query principalId -o tsv)`;
}

export function vaultName(vaultUrl: string): string {
  return new URL(vaultUrl).hostname.split('.')[0]!;
}
export function accountName(accountUrl: string): string {
  return new URL(accountUrl).hostname.split('.')[0]!;
}

/** The ARM id of the target's resource, or a sub-command that looks it up. */
export function resourceIdExpr(target: Target): string {
  if (target.resourceId) return target.resourceId;
  switch (target.kind) {
    case 'keyVaultSecret':
      return `$(az keyvault show --name ${vaultName(target.vaultUrl)} --query id -o tsv)`;
    case 'storageBlob':
      return `$(az storage account show --name ${accountName(target.accountUrl)} --query id -o tsv)`;
    case 'armResource':
      return target.resourceId;
  }
}

/** The narrowest scope that lets the probe's operation succeed (a container beats its account). */
export function narrowestScope(target: Target): string {
  if (target.kind === 'storageBlob') return `${resourceIdExpr(target)}/blobServices/default/containers/${target.container}`;
  return resourceIdExpr(target);
}

export function roleAssignmentCreate(ctx: CommandContext, roleName = OPERATIONS[ctx.target.kind].leastRole.name): string {
  return (
    `az role assignment create --assignee-object-id ${assignee(ctx)} --assignee-principal-type ServicePrincipal ` +
    `--role ${q(roleName)} --scope ${q(narrowestScope(ctx.target))}`
  );
}

export function roleAssignmentList(ctx: CommandContext): string {
  return `az role assignment list --assignee ${assignee(ctx)} --scope ${q(resourceIdExpr(ctx.target))} --include-inherited -o table`;
}

/** The host name (and port, if any) the target lives at. */
export function targetHost(target: Target, settings: Settings): string {
  const url =
    target.kind === 'keyVaultSecret' ? target.vaultUrl : target.kind === 'storageBlob' ? target.accountUrl : target.endpoint ?? settings.armEndpoint;
  return new URL(url).host;
}
