import { resourceIdOr, assignee, type CommandContext } from '../advice/commands';
import type { Settings } from '../config';
import { oneLine, sh } from '../advice/shell';
import { kindOf, leastRoleOf, type Target } from './registry';
import type { Evidence } from '../verdict';

/**
 * Fix-command builders that need to know the target's kind: its resource id look-up, the scope to grant at, its host.
 * Each asks the kind module (src/targets/<kind>/index.ts); values are quoted by src/advice/shell.ts.
 */

/** The ARM id of the target's resource as a shell word: the configured id, or a sub-command that looks it up. */
export function resourceIdExpr(target: Target): string {
  return resourceIdOr(target.resourceId, kindOf(target).resource.lookup(target));
}

/** The narrowest scope that lets the probe's operation succeed (a container beats its account), as a shell word. */
export function narrowestScope(target: Target): string {
  const below = kindOf(target).scopes.grant(target);
  // Names below the resource are validated by the target schema; quote them anyway.
  return below ? `${resourceIdExpr(target)}${sh(below)}` : resourceIdExpr(target);
}

/** The same scope in prose (never pasted into a shell). */
export function narrowestScopeText(target: Target): string {
  const kind = kindOf(target);
  return oneLine(`${target.resourceId ?? kind.resource.text(target)}${kind.scopes.grant(target)}`);
}

export function roleAssignmentCreate(ctx: CommandContext, roleName = leastRoleOf(ctx.target, (ctx as { evidence?: Evidence }).evidence).name): string {
  return (
    `az role assignment create --assignee-object-id ${assignee(ctx)} --assignee-principal-type ServicePrincipal ` +
    `--role ${sh(roleName)} --scope ${narrowestScope(ctx.target)}`
  );
}

export function roleAssignmentList(ctx: CommandContext): string {
  return `az role assignment list --assignee ${assignee(ctx)} --scope ${resourceIdExpr(ctx.target)} --include-inherited -o table`;
}

/** The host name (and port, if any) the target lives at. */
export function targetHost(target: Target, settings: Pick<Settings, 'armEndpoint'>): string {
  return new URL(kindOf(target).endpoint(target, settings)).host;
}
