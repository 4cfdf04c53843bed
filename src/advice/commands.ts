import type { Settings, Target } from '../config';
import type { Claims, HostKind } from '../verdict';
import { comment, GUID, idOr, lookup, wellFormedArmId } from './shell';

/**
 * Builders for the `az` lines a fix is made of, with real values filled in wherever the host, the token or the target
 * configuration knows them, and a look-up sub-command where they do not. Never a client secret: the fix is always an
 * assignment or a role. Every value goes through src/advice/shell.ts: quoted for bash, or a placeholder when it is
 * not a well-formed id; the builders here return shell words, the `…Text` helpers return prose.
 */

export interface CommandContext {
  target: Target;
  settings: Settings;
  claims?: Claims;
  hostKind: HostKind;
}

const NAME = /^[A-Za-z0-9._()-]{1,90}$/;
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

/** The resource's ARM id as a shell word: the configured id, else a sub-command that looks it up, else a placeholder. */
export function resourceIdOr(resourceId: string | undefined, lookupCommand: string | undefined): string {
  if (resourceId) return idOr(resourceId, wellFormedArmId, 'resource-id');
  return lookupCommand ? lookup(lookupCommand) : '<resource-id>';
}

/** Reach a resource whose public access is off: a private endpoint in the workload's network, and its DNS zone. */
export function privateLinkFix(resourceIdWord: string, groupId: string, zone: string): string[] {
  return [
    `az network private-endpoint create -g <workload-resource-group> -n <endpoint-name> --vnet-name <workload-vnet> --subnet <endpoint-subnet> --private-connection-resource-id ${resourceIdWord} --group-id ${groupId} --connection-name <connection-name>`,
    `az network private-dns zone create -g <workload-resource-group> -n ${zone}   ${comment('then link it to the workload VNet and add the endpoint\'s DNS zone group')}`,
    comment('or run this check from inside the network that already has the private endpoint; never re-enable public access to all networks'),
  ];
}
