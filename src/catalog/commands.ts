import type { Settings, Target } from '../config';
import type { Claims, HostKind } from '../verdict';
import { OPERATIONS } from './operations';
import { GUID, idOr, lookup, oneLine, sh, wellFormedArmId } from './shell';

/**
 * Builders for the `az` lines a fix is made of, with real values filled in wherever the host, the token or the target
 * configuration knows them, and a look-up sub-command where they do not. Never a client secret: the fix is always an
 * assignment or a role. Every value goes through src/catalog/shell.ts: quoted for bash, or a placeholder when it is
 * not a well-formed id; the builders here return shell words, the `…Text` helpers return prose.
 */

export interface CommandContext {
  target: Target;
  settings: Settings;
  claims?: Claims;
  hostKind: HostKind;
}

const NAME = /^[A-Za-z0-9._()-]{1,90}$/;
const VAULT = /^[A-Za-z0-9-]{3,24}$/;
const ACCOUNT = /^[a-z0-9]{3,24}$/;
export const isGuid = (v: string): boolean => GUID.test(v);

/** The CLI group for the host (`az functionapp`, `az webapp`, …) and its name and resource group, as shell words. */
export function hostCli(ctx: CommandContext): { group: string; name: string; rg: string } {
  const p = ctx.settings.platform;
  const group =
    ctx.hostKind === 'containerApps' ? 'containerapp' : ctx.hostKind === 'appService' ? 'webapp' : ctx.hostKind === 'vm' ? 'vm' : 'functionapp';
  return {
    group,
    name: idOr(p.containerAppName ?? p.siteName, (v) => NAME.test(v), 'app-name'),
    rg: idOr(p.resourceGroup, (v) => NAME.test(v), 'resource-group'),
  };
}

/** `[?clientId=='<id>']`-style JMESPath filters take only GUIDs; anything else is a placeholder inside the query. */
export function guidInQuery(value: string | undefined, name: string): string {
  return value !== undefined && isGuid(value) ? value : `<${name}>`;
}

/** The principal (object id) to grant, as a shell word: the token's oid, else a look-up of the host's identity. */
export function assignee(ctx: CommandContext): string {
  if (ctx.claims?.oid) return idOr(ctx.claims.oid, isGuid, 'principal-object-id');
  if (ctx.settings.expectedPrincipalId) return idOr(ctx.settings.expectedPrincipalId, isGuid, 'principal-object-id');
  if (ctx.settings.clientId) return lookup(`az identity list --query "[?clientId=='${guidInQuery(ctx.settings.clientId, 'client-id')}'].principalId" -o tsv`);
  const h = hostCli(ctx);
  return lookup(`az ${h.group} identity show -g ${h.rg} -n ${h.name} --query principalId -o tsv`);
}

export function vaultName(vaultUrl: string): string {
  return new URL(vaultUrl).hostname.split('.')[0]!;
}
export function accountName(accountUrl: string): string {
  return new URL(accountUrl).hostname.split('.')[0]!;
}
/** The vault name as a shell word (a placeholder when the host's first label is not a vault name). */
export function vaultArg(vaultUrl: string): string {
  return idOr(vaultName(vaultUrl), (v) => VAULT.test(v), 'vault-name');
}
/** The storage account name as a shell word. */
export function accountArg(accountUrl: string): string {
  return idOr(accountName(accountUrl), (v) => ACCOUNT.test(v), 'account-name');
}

/** The ARM id of the target's resource as a shell word: the configured id, or a sub-command that looks it up. */
export function resourceIdExpr(target: Target): string {
  if (target.resourceId) return idOr(target.resourceId, wellFormedArmId, 'resource-id');
  switch (target.kind) {
    case 'keyVaultSecret':
      return lookup(`az keyvault show --name ${vaultArg(target.vaultUrl)} --query id -o tsv`);
    case 'storageBlob':
      return lookup(`az storage account show --name ${accountArg(target.accountUrl)} --query id -o tsv`);
    case 'armResource':
      return '<resource-id>';
  }
}

/** The narrowest scope that lets the probe's operation succeed (a container beats its account), as a shell word. */
export function narrowestScope(target: Target): string {
  if (target.kind !== 'storageBlob') return resourceIdExpr(target);
  const base = resourceIdExpr(target);
  // The container name is validated by the target schema; quote it anyway.
  return `${base}${sh(`/blobServices/default/containers/${target.container}`)}`;
}

/** The same scope in prose (never pasted into a shell). */
export function narrowestScopeText(target: Target): string {
  const base = target.resourceId ?? (target.kind === 'keyVaultSecret' ? `the vault ${vaultName(target.vaultUrl)}` : target.kind === 'storageBlob' ? `the account ${accountName(target.accountUrl)}` : '(no resourceId)');
  return oneLine(target.kind === 'storageBlob' ? `${base}/blobServices/default/containers/${target.container}` : base);
}

export function roleAssignmentCreate(ctx: CommandContext, roleName = OPERATIONS[ctx.target.kind].leastRole.name): string {
  return (
    `az role assignment create --assignee-object-id ${assignee(ctx)} --assignee-principal-type ServicePrincipal ` +
    `--role ${sh(roleName)} --scope ${narrowestScope(ctx.target)}`
  );
}

export function roleAssignmentList(ctx: CommandContext): string {
  return `az role assignment list --assignee ${assignee(ctx)} --scope ${resourceIdExpr(ctx.target)} --include-inherited -o table`;
}

/** The host name (and port, if any) the target lives at. */
export function targetHost(target: Target, settings: Settings): string {
  const url =
    target.kind === 'keyVaultSecret' ? target.vaultUrl : target.kind === 'storageBlob' ? target.accountUrl : target.endpoint ?? settings.armEndpoint;
  return new URL(url).host;
}
