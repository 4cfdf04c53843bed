import fs from 'node:fs';
import path from 'node:path';
import { CLOUD_NAMES } from '../../src/catalog/clouds';
import { CLOUDS, KINDS } from '../../src/targets/registry';
import { OPERATIONS } from '../../src/targets/registry';
import { ROLES, type RoleKey } from '../../src/catalog/roles';
import { SETTING_NAMES, loadSettings, type Target } from '../../src/config';
import { createRoutes } from '../../src/routes';
import { Evaluator, objectAt, objectLiterals, readBicep, show, type BicepFile, type Expr } from '../support/bicep';

/**
 * Bicep cannot be compiled here, so infra/ is held to the single catalogs in src another way: the templates are
 * parsed, the variables that decide what gets granted and configured are evaluated for realistic parameters (as ARM
 * would), and the results are checked against ROLES, OPERATIONS, AppSettingsSchema and TargetSchema.
 */

const ROOT = path.resolve(__dirname, '../..');
const INFRA = path.join(ROOT, 'infra');
const main = readBicep(path.join(INFRA, 'main.bicep'));
const access = readBicep(path.join(INFRA, 'app/access.bicep'));
const cosmosAccess = readBicep(path.join(INFRA, 'app/cosmosAccess.bicep'));
const fn = readBicep(path.join(INFRA, 'app/function.bicep'));
const storage = readBicep(path.join(INFRA, 'app/storage.bicep'));
const bicepFiles = fs
  .readdirSync(INFRA, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.bicep'))
  .map((f) => path.join(INFRA, f));
const allBicep = bicepFiles.map((f) => fs.readFileSync(f, 'utf8')).join('\n');

/** What ARM's environment() answers in each cloud (only the members the templates read). */
const ARM_ENVIRONMENTS = {
  AzurePublicCloud: { name: 'AzureCloud', suffixes: { keyvaultDns: '.vault.azure.net', storage: 'core.windows.net', acrLoginServer: '.azurecr.io', sqlServerHostname: '.database.windows.net' } },
  AzureChinaCloud: { name: 'AzureChinaCloud', suffixes: { keyvaultDns: '.vault.azure.cn', storage: 'core.chinacloudapi.cn', acrLoginServer: '.azurecr.cn', sqlServerHostname: '.database.chinacloudapi.cn' } },
  AzureUSGovernment: { name: 'AzureUSGovernment', suffixes: { keyvaultDns: '.vault.usgovcloudapi.net', storage: 'core.usgovcloudapi.net', acrLoginServer: '.azurecr.us', sqlServerHostname: '.database.usgovcloudapi.net' } },
} as const;

const SUB = '3f2a8c71-6b4d-4e29-a1c5-7d9e0b2f4a68';
const OTHER_SUB = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const VAULT_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-app`;
const ACCOUNT_ID = `/subscriptions/${OTHER_SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stappdata`;
const RG_ID = `/subscriptions/${SUB}/resourceGroups/rg-app`;
const STORE_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.AppConfiguration/configurationStores/appcs-app`;
const REGISTRY_ID = `/subscriptions/${SUB}/resourceGroups/rg-images/providers/Microsoft.ContainerRegistry/registries/acrapp`;
const COSMOS_ID = `/subscriptions/${OTHER_SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-app`;
const OPENAI_ID = `/subscriptions/${SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/OAI-Orders`;
const SB_ID = `/subscriptions/${SUB}/resourceGroups/rg-msg/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const EH_ID = `/subscriptions/${SUB}/resourceGroups/rg-msg/providers/Microsoft.EventHub/namespaces/eh-telemetry`;
const EVERY_DEPENDENCY = {
  keyVaultSecretResourceId: `${VAULT_ID}/secrets/app-secret`,
  storageContainerResourceId: `${ACCOUNT_ID}/blobServices/default/containers/data`,
  storageBlobName: 'hello.txt',
  armScopeResourceId: RG_ID,
  appConfigurationStoreResourceId: STORE_ID,
  appConfigurationKey: 'App:Greeting',
  appConfigurationLabel: 'prod',
  containerRegistryResourceId: REGISTRY_ID,
  containerRegistryRepository: 'app/api',
  cosmosContainerResourceId: `${COSMOS_ID}/sqlDatabases/app/containers/orders`,
  azureOpenAIResourceId: OPENAI_ID,
  storageQueueResourceId: `${ACCOUNT_ID}/queueServices/default/queues/jobs`,
  storageTableResourceId: `${ACCOUNT_ID}/tableServices/default/tables/orders`,
  serviceBusQueueResourceId: `${SB_ID}/queues/orders`,
  eventHubResourceId: `${EH_ID}/eventhubs/telemetry`,
};
/** Parameters that refine a dependency rather than configure one. */
const REFINEMENTS = ['storageBlobName', 'appConfigurationKey', 'appConfigurationLabel', 'containerRegistryRepository'];

function evaluator(params: Record<string, unknown>, cloud: keyof typeof ARM_ENVIRONMENTS = 'AzurePublicCloud') {
  return new Evaluator(main, { params: { environmentName: 'dev', location: 'eastus', ...params }, environment: ARM_ENVIRONMENTS[cloud] });
}

interface Row {
  configured: boolean;
  roleDefinitionId: string;
  scope: { subscriptionId: string; resourceGroup: string; kind: string; name: string };
  target: Target;
}

function moduleNamed(file: BicepFile, name: string) {
  const m = file.modules.find((x) => x.name === name);
  if (!m) throw new Error(`${file.path} has no module ${name}`);
  return m;
}

function paramsOf(m: { body: Expr & { t: 'obj' } }): Record<string, string> {
  return Object.fromEntries(objectAt(m.body, 'params').props.map((p) => [p.key, show(p.value)]));
}

const roleTable = objectAt(main.vars.get('roles'));
const roleGuid = (key: string) => {
  const v = roleTable.props.find((p) => p.key === key)?.value;
  return v?.t === 'str' ? v.parts.join('') : undefined;
};

describe('azd project', () => {
  const yaml = fs.readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8');

  it('deploys this TypeScript project as a function service to the app the template tags with its name', () => {
    const services = /^services:\n((?:[ ].*\n?)*)/m.exec(yaml)?.[1] ?? '';
    const [, serviceName, body] = /^ {2}([\w-]+):\n((?: {4}.*\n?)*)/m.exec(services) ?? [];
    expect(body).toMatch(/^ {4}host: function$/m);
    expect(body).toMatch(/^ {4}language: ts$/m);
    expect(body).toMatch(/^ {4}project: \.$/m);
    expect(show(main.vars.get('serviceName')!)).toBe(`'${serviceName}'`);
    expect(paramsOf(moduleNamed(main, 'app')).serviceName).toBe('serviceName');
    const site = fn.resources.find((r) => r.ref.startsWith('Microsoft.Web/sites@'))!;
    expect(show(site.body.props.find((p) => p.key === 'tags')!.value)).toBe("union(tags, { azd-service-name: serviceName })");
    expect(yaml).toMatch(/^ {2}path: infra$/m);
    expect(yaml).toMatch(/^ {2}module: main$/m);
  });

  it('provisions into one resource group, so `az deployment group create` deploys the same template', () => {
    expect(main.targetScope).toBe('resourceGroup');
  });

  it('feeds every parameter from an azd environment value, and covers every parameter that has no default', () => {
    const file = JSON.parse(fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    for (const [name, { value }] of Object.entries(file.parameters)) {
      expect(main.params.has(name)).toBe(true);
      expect(value).toMatch(/^\$\{[A-Z][A-Z0-9_]*\}$/);
    }
    const required = [...main.params.values()].filter((p) => !p.default).map((p) => p.name);
    expect(required.filter((n) => !(n in file.parameters))).toEqual([]);
  });

  it('documents every azd environment value the parameters read (infra/README.md)', () => {
    const names = [...fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!);
    const doc = fs.readFileSync(path.join(INFRA, 'README.md'), 'utf8');
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });
});

describe('role ids', () => {
  it('names every role after its key in ROLES, with the GUID the catalog holds', () => {
    expect(roleTable.props.length).toBeGreaterThan(0);
    for (const { key } of roleTable.props) {
      expect(Object.keys(ROLES)).toContain(key);
      expect(roleGuid(key)).toBe(ROLES[key as RoleKey].id);
    }
  });

  it('uses no GUID anywhere in infra/ that is not in that table', () => {
    const guids = new Set(allBicep.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) ?? []);
    const known = new Set(roleTable.props.map((p) => roleGuid(p.key)));
    expect([...guids].filter((g) => !known.has(g.toLowerCase()))).toEqual([]);
  });

  it('never names Owner, Contributor or another write role', () => {
    for (const broad of ['owner', 'contributor', 'storageBlobDataContributor', 'keyVaultSecretsOfficer', 'keyVaultAdministrator']) {
      expect(roleGuid(broad)).toBeUndefined();
    }
  });

  it('grants each dependency exactly the least role its probe needs', () => {
    const rows = evaluator(EVERY_DEPENDENCY).variable('dependencies') as Row[];
    expect(rows.map((r) => r.target.kind).sort()).toEqual(Object.keys(OPERATIONS).sort());
    for (const row of rows) expect(row.roleDefinitionId).toBe(OPERATIONS[row.target.kind].leastRole.id);
  });

  it('grants the host identity Storage Blob Data Owner on the app\'s own storage and Monitoring Metrics Publisher on its Application Insights, nothing else', () => {
    const granted = main.modules.filter((m) => m.ref === 'app/access.bicep').map((m) => ({ name: m.name, params: paramsOf(m) }));
    expect(granted).toEqual([
      {
        name: 'hostStorageAccess',
        params: {
          principalId: 'hostIdentity.properties.principalId',
          roleDefinitionId: 'roles.storageBlobDataOwner',
          scopeKind: "'storageAccount'",
          scopeName: 'storage.outputs.name',
        },
      },
      {
        name: 'hostMonitoringAccess',
        params: {
          principalId: 'hostIdentity.properties.principalId',
          roleDefinitionId: 'roles.monitoringMetricsPublisher',
          scopeKind: "'applicationInsights'",
          scopeName: 'monitoring.outputs.name',
        },
      },
      {
        name: 'dependencyAccess',
        params: {
          principalId: 'diagnosedIdentity.principalId',
          roleDefinitionId: 'd.roleDefinitionId',
          scopeKind: 'd.scope.kind',
          scopeName: 'd.scope.name',
        },
      },
    ]);
  });

  it('names each assignment after (scope, principal, role) and declares the principal a ServicePrincipal', () => {
    const assignments = access.resources.filter((r) => r.ref.startsWith('Microsoft.Authorization/roleAssignments@'));
    // One assignment per allowed kind of scope.
    const kinds = access.params.get('scopeKind')!.decorators.find((d) => d.name === 'allowed')!.args[0]!;
    expect(assignments).toHaveLength((kinds as Expr & { t: 'arr' }).items.length);
    for (const a of assignments) {
      const name = show(a.body.props.find((p) => p.key === 'name')!.value);
      expect(name).toMatch(/^guid\(([A-Za-z]+\.id|resourceGroup\(\)\.id), principalId, roleDefinitionId\)$/);
      expect(show(a.body.props.find((p) => p.key === 'properties')!.value)).toBe('assignment');
    }
    expect(objectAt(access.vars.get('assignment')).props.map((p) => [p.key, show(p.value)])).toEqual([
      ['roleDefinitionId', "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)"],
      ['principalId', 'principalId'],
      ['principalType', "'ServicePrincipal'"],
    ]);
  });
});

describe('Cosmos DB: its own permission model (app/cosmosAccess.bicep)', () => {
  it('grants a SQL role assignment on the container, never an Azure role assignment', () => {
    expect(cosmosAccess.resources.filter((r) => r.ref.startsWith('Microsoft.Authorization/roleAssignments@'))).toEqual([]);
    const [sql, ...others] = cosmosAccess.resources.filter((r) => !r.existing);
    expect(others).toEqual([]);
    expect(sql!.ref).toMatch(/^Microsoft\.DocumentDB\/databaseAccounts\/sqlRoleAssignments@/);
    expect(show(sql!.body.props.find((p) => p.key === 'name')!.value)).toBe('guid(account.id, principalId, roleDefinitionId, sqlScope)');
    expect(Object.fromEntries(objectAt(sql!.body, 'properties').props.map((p) => [p.key, show(p.value)]))).toEqual({
      roleDefinitionId: "'${account.id}/sqlRoleDefinitions/${roleDefinitionId}'",
      principalId: 'principalId',
      scope: "'${account.id}${sqlScope}'",
    });
  });

  it('is called once per Cosmos DB dependency, with its least SQL role, on the container, unless alongside the workload', () => {
    const loop = moduleNamed(main, 'dependencySqlAccess');
    expect(loop.ref).toBe('app/cosmosAccess.bicep');
    expect(show(loop.loop!.source)).toBe('cosmosDependencies');
    expect(show(loop.loop!.condition!)).toBe('!diagnoseAsWorkload');
    expect(paramsOf(loop)).toEqual({
      principalId: 'diagnosedIdentity.principalId',
      roleDefinitionId: 'd.roleDefinitionId',
      accountName: 'd.scope.name',
      sqlScope: "'/dbs/${d.target.database}/colls/${d.target.container}'",
    });
    const rows = evaluator(EVERY_DEPENDENCY).variable('cosmosDependencies') as Row[];
    expect(rows.map((r) => [r.roleDefinitionId, r.scope.name])).toEqual([[ROLES.cosmosDbBuiltInDataReader.id, 'cosmos-app']]);
    expect(OPERATIONS.cosmosDb.leastRole.id).toBe(ROLES.cosmosDbBuiltInDataReader.id);
  });
});

describe('DIAGNOSE_TARGETS and the grants it comes with', () => {
  it('writes targets the service accepts at start-up, one per configured dependency', () => {
    const targets = evaluator(EVERY_DEPENDENCY).variable('diagnoseTargets');
    const settings = loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) });
    expect(settings.targets).toEqual([
      {
        name: 'secrets',
        kind: 'keyVaultSecret',
        vaultUrl: 'https://kv-app.vault.azure.net',
        secretName: 'app-secret',
        resourceId: VAULT_ID,
      },
      {
        name: 'blobs',
        kind: 'storageBlob',
        accountUrl: 'https://stappdata.blob.core.windows.net',
        container: 'data',
        blobName: 'hello.txt',
        resourceId: ACCOUNT_ID,
      },
      { name: 'arm', kind: 'armResource', resourceId: RG_ID },
      { name: 'appconfig', kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io', resourceId: STORE_ID, key: 'App:Greeting', label: 'prod' },
      { name: 'registry', kind: 'containerRegistry', endpoint: 'https://acrapp.azurecr.io', repository: 'app/api', resourceId: REGISTRY_ID },
      { name: 'cosmos', kind: 'cosmosDb', accountEndpoint: 'https://cosmos-app.documents.azure.com', database: 'app', container: 'orders', resourceId: COSMOS_ID },
      { name: 'openai', kind: 'azureOpenAI', endpoint: 'https://oai-orders.openai.azure.com', resourceId: OPENAI_ID },
      { name: 'queues', kind: 'storageQueue', accountUrl: 'https://stappdata.queue.core.windows.net', queueName: 'jobs', resourceId: ACCOUNT_ID },
      { name: 'tables', kind: 'storageTable', accountUrl: 'https://stappdata.table.core.windows.net', tableName: 'orders', resourceId: ACCOUNT_ID },
      { name: 'queue', kind: 'serviceBus', fullyQualifiedNamespace: 'sb-orders.servicebus.windows.net', queueName: 'orders', resourceId: SB_ID },
      { name: 'events', kind: 'eventHubs', fullyQualifiedNamespace: 'eh-telemetry.servicebus.windows.net', eventHubName: 'telemetry', resourceId: EH_ID },
    ]);
    expect(show(objectAt(main.vars.get('diagnoseSettings')).props.find((p) => p.key === 'DIAGNOSE_TARGETS')!.value)).toBe('string(diagnoseTargets)');
  });

  it('leaves blobName out when no blob is named (the service refuses an empty one)', () => {
    const targets = evaluator({ ...EVERY_DEPENDENCY, storageBlobName: '' }).variable('diagnoseTargets') as Record<string, unknown>[];
    expect(targets[1]).not.toHaveProperty('blobName');
    expect(loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) }).targets[1]).toMatchObject({ kind: 'storageBlob', container: 'data' });
  });

  it('leaves key and label out when not set: the first page of the whole store, any label', () => {
    const targets = evaluator({ ...EVERY_DEPENDENCY, appConfigurationKey: '', appConfigurationLabel: '' }).variable('diagnoseTargets') as Record<string, unknown>[];
    expect(targets[3]).not.toHaveProperty('key');
    expect(targets[3]).not.toHaveProperty('label');
    expect(loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) }).targets[3]).toMatchObject({ kind: 'appConfiguration', endpoint: 'https://appcs-app.azconfig.io' });
  });

  it('leaves tableName out when the table id names the account alone (the probe then lists its tables)', () => {
    const targets = evaluator({ storageTableResourceId: ACCOUNT_ID }).variable('diagnoseTargets') as Record<string, unknown>[];
    expect(targets).toEqual([{ name: 'tables', kind: 'storageTable', accountUrl: 'https://stappdata.table.core.windows.net', resourceId: ACCOUNT_ID }]);
    expect(loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) }).targets[0]).not.toHaveProperty('tableName');
  });

  it('writes an empty list and grants nothing when no dependency is configured', () => {
    const e = evaluator({});
    expect(e.variable('diagnoseTargets')).toEqual([]);
    expect(e.variable('configuredDependencies')).toEqual([]);
    expect(loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(e.variable('diagnoseTargets')) }).targets).toEqual([]);
  });

  it('leaves repository out when no repository is named (the probe lists the catalog)', () => {
    const targets = evaluator({ ...EVERY_DEPENDENCY, containerRegistryRepository: '' }).variable('diagnoseTargets') as Record<string, unknown>[];
    const registry = targets.findIndex((t) => t.kind === 'containerRegistry');
    expect(targets[registry]).not.toHaveProperty('repository');
    expect(loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) }).targets[registry]).toMatchObject({ kind: 'containerRegistry', endpoint: 'https://acrapp.azurecr.io' });
  });

  it('configures each dependency on its own', () => {
    for (const [param, value] of Object.entries(EVERY_DEPENDENCY)) {
      if (REFINEMENTS.includes(param)) continue;
      const targets = evaluator({ [param]: value }).variable('diagnoseTargets') as Target[];
      expect(targets).toHaveLength(1);
      loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) });
    }
  });

  it('grants on the vault, the storage account and the resource group the ids name, in their own subscriptions', () => {
    const rows = evaluator(EVERY_DEPENDENCY).variable('configuredDependencies') as Row[];
    expect(rows.map((r) => r.scope)).toEqual([
      { subscriptionId: SUB, resourceGroup: 'rg-app', kind: 'vault', name: 'kv-app' },
      { subscriptionId: OTHER_SUB, resourceGroup: 'rg-data', kind: 'storageAccount', name: 'stappdata' },
      { subscriptionId: SUB, resourceGroup: 'rg-app', kind: 'resourceGroup', name: 'rg-app' },
      { subscriptionId: SUB, resourceGroup: 'rg-app', kind: 'configurationStore', name: 'appcs-app' },
      { subscriptionId: SUB, resourceGroup: 'rg-images', kind: 'containerRegistry', name: 'acrapp' },
      { subscriptionId: OTHER_SUB, resourceGroup: 'rg-data', kind: 'cosmosAccount', name: 'cosmos-app' },
      { subscriptionId: SUB, resourceGroup: 'rg-ai', kind: 'cognitiveServicesAccount', name: 'OAI-Orders' },
      { subscriptionId: OTHER_SUB, resourceGroup: 'rg-data', kind: 'storageAccount', name: 'stappdata' },
      { subscriptionId: OTHER_SUB, resourceGroup: 'rg-data', kind: 'storageAccount', name: 'stappdata' },
      { subscriptionId: SUB, resourceGroup: 'rg-msg', kind: 'serviceBusNamespace', name: 'sb-orders' },
      { subscriptionId: SUB, resourceGroup: 'rg-msg', kind: 'eventHubsNamespace', name: 'eh-telemetry' },
    ]);
    const loop = moduleNamed(main, 'dependencyAccess');
    expect(show(loop.loop!.source)).toBe('rbacDependencies');
    expect((evaluator(EVERY_DEPENDENCY).variable('rbacDependencies') as Row[]).map((r) => r.scope.kind)).toEqual(['vault', 'storageAccount', 'resourceGroup', 'configurationStore', 'containerRegistry', 'cognitiveServicesAccount', 'storageAccount', 'storageAccount', 'serviceBusNamespace', 'eventHubsNamespace']);
    expect(show(loop.body.props.find((p) => p.key === 'scope')!.value)).toBe('resourceGroup(d.scope.subscriptionId, d.scope.resourceGroup)');
    // Every dependency kind, plus the component the host's telemetry goes to.
    expect(show(access.params.get('scopeKind')!.decorators.find((d) => d.name === 'allowed')!.args[0]!)).toBe(
      `[${[...new Set(rows.filter((r) => r.scope.kind !== 'cosmosAccount').map((r) => `'${r.scope.kind}'`)), "'applicationInsights'"].join(', ')}]`,
    );
  });

  it('builds vault, blob, App Configuration and registry URLs from the cloud the deployment runs in', () => {
    for (const cloud of CLOUD_NAMES) {
      const e = evaluator(EVERY_DEPENDENCY, cloud);
      const targets = e.variable('diagnoseTargets') as Target[];
      const env = { DIAGNOSE_TARGETS: JSON.stringify(targets), AZURE_CLOUD: (e.variable('azureCloudNames') as Record<string, string>)[ARM_ENVIRONMENTS[cloud].name] };
      const settings = loadSettings(env);
      expect(settings.cloud.name).toBe(cloud);
      const of = <K extends Target['kind']>(kind: K) => settings.targets.find((t) => t.kind === kind) as Extract<Target, { kind: K }>;
      expect(new URL(of('keyVaultSecret').vaultUrl).host).toBe(`kv-app.${CLOUDS[cloud].dnsSuffixes.keyVaultSecret}`);
      expect(new URL(of('storageBlob').accountUrl).host).toBe(`stappdata.${CLOUDS[cloud].dnsSuffixes.storageBlob}`);
      expect(new URL(of('appConfiguration').endpoint).host).toBe(`appcs-app.${CLOUDS[cloud].dnsSuffixes.appConfiguration}`);
      expect(new URL(of('containerRegistry').endpoint).host).toBe(`acrapp.${CLOUDS[cloud].dnsSuffixes.containerRegistry}`);
      expect(new URL(of('cosmosDb').accountEndpoint).host).toBe(`cosmos-app.${CLOUDS[cloud].dnsSuffixes.cosmosDb}`);
      expect(new URL(of('azureOpenAI').endpoint).host).toBe(`oai-orders.${CLOUDS[cloud].dnsSuffixes.azureOpenAI}`);
    }
  });

  it('maps every ARM cloud name to the AZURE_CLOUD name the service knows', () => {
    const map = evaluator({}).variable('azureCloudNames');
    expect(map).toEqual(Object.fromEntries(CLOUD_NAMES.map((n) => [CLOUDS[n].azCloudName, n])));
  });

  it('writes each target with keys TargetSchema knows, and every key it requires', () => {
    const schemas = Object.fromEntries(KINDS.map((k) => [k.kind, k.schema])) as unknown as Record<Target['kind'], { shape: unknown }>;
    const rows = main.vars.get('dependencies');
    expect(rows?.t).toBe('arr');
    for (const row of (rows as Expr & { t: 'arr' }).items) {
      const targetExpr = (row as Expr & { t: 'obj' }).props.find((p) => p.key === 'target')!.value;
      const literals = objectLiterals(targetExpr);
      const [base, ...optional] = literals;
      const kind = show(base!.props.find((p) => p.key === 'kind')!.value).replace(/'/g, '') as keyof typeof schemas;
      const shape = schemas[kind].shape as Record<string, { isOptional(): boolean }>;
      const written = literals.flatMap((o) => o.props.map((p) => p.key));
      expect(written.filter((k) => !(k in shape))).toEqual([]);
      const required = Object.keys(shape).filter((k) => !shape[k]!.isOptional());
      expect(required.filter((k) => !base!.props.some((p) => p.key === k))).toEqual([]);
      // Optional keys that may be empty are added only when set, never written empty.
      for (const o of optional) for (const p of o.props) expect(shape[p.key]!.isOptional()).toBe(true);
    }
  });
});

describe('a Microsoft Graph target', () => {
  it('is configured from graphPath and graphPermission, and never granted as an Azure role (its grant is an app role assignment)', () => {
    const e = evaluator({ graphPath: '/v1.0/groups?$top=1', graphPermission: 'Group.Read.All' });
    const targets = e.variable('diagnoseTargets') as Target[];
    expect(targets).toEqual([{ name: 'graph', kind: 'microsoftGraph', path: '/v1.0/groups?$top=1', permission: 'Group.Read.All' }]);
    expect(loadSettings({ DIAGNOSE_TARGETS: JSON.stringify(targets) }).targets).toHaveLength(1);
    // Nothing reaches app/access.bicep: ARM cannot assign a Graph app role (infra/README.md documents the az rest that does).
    expect(e.variable('configuredDependencies')).toEqual([]);
    expect(fs.readFileSync(path.join(INFRA, 'README.md'), 'utf8')).toMatch(/az rest --method POST --uri "\$GRAPH\/v1\.0\/servicePrincipals\/\$DIAGNOSE_IDENTITY_PRINCIPAL_ID\/appRoleAssignments"/);
  });
});

describe('alongside the workload', () => {
  it('runs as the workload\'s identity and grants it nothing', () => {
    const e = evaluator({ ...EVERY_DEPENDENCY, workloadIdentityName: 'id-orders-api', workloadIdentityResourceGroup: 'rg-orders' });
    expect(e.variable('diagnoseAsWorkload')).toBe(true);
    expect(show(main.vars.get('diagnosedIdentity')!)).toBe('diagnoseAsWorkload ? workloadIdentityFacts : doctorIdentityFacts');
    const loop = moduleNamed(main, 'dependencyAccess');
    expect(show(loop.loop!.condition!)).toBe('!diagnoseAsWorkload');
    // The targets are still diagnosed: only the grants are skipped.
    expect(e.variable('diagnoseTargets')).toHaveLength(Object.keys(EVERY_DEPENDENCY).filter((p) => !REFINEMENTS.includes(p)).length);
    const workload = main.resources.find((r) => r.name === 'workloadIdentity')!;
    expect(workload.existing).toBe(true);
    expect(show(workload.condition!)).toBe('diagnoseAsWorkload');
    expect(show(main.resources.find((r) => r.name === 'doctorIdentity')!.condition!)).toBe('!diagnoseAsWorkload');
  });

  it('otherwise creates its own identity and grants it the least roles', () => {
    expect(evaluator(EVERY_DEPENDENCY).variable('diagnoseAsWorkload')).toBe(false);
  });

  it('attaches the diagnosed identity beside the host identity and pins AZURE_CLIENT_ID and EXPECTED_PRINCIPAL_ID to it', () => {
    const settings = Object.fromEntries(objectAt(main.vars.get('diagnoseSettings')).props.map((p) => [p.key, show(p.value)]));
    expect(settings).toMatchObject({
      AZURE_CLIENT_ID: 'diagnosedIdentity.clientId',
      EXPECTED_PRINCIPAL_ID: 'diagnosedIdentity.principalId',
      EXPECTED_TENANT_ID: 'tenant().tenantId',
    });
    const app = paramsOf(moduleNamed(main, 'app'));
    expect(app).toMatchObject({ diagnosedIdentityId: 'diagnosedIdentity.id', hostIdentityId: 'hostIdentity.id', appSettings: 'diagnoseSettings' });
    const site = fn.resources.find((r) => r.ref.startsWith('Microsoft.Web/sites@'))!;
    expect(show(objectAt(site.body, 'identity'))).toBe("{ type: 'UserAssigned', userAssignedIdentities: { ${…}: {  }, ${…}: {  } } }");
  });
});

describe('app settings', () => {
  /** Settings the Functions platform reads; the service reads none of them. */
  const PLATFORM_SETTINGS = [
    'AzureWebJobsStorage__credential',
    'AzureWebJobsStorage__clientId',
    'AzureWebJobsStorage__blobServiceUri',
    'FUNCTIONS_EXTENSION_VERSION',
    'FUNCTIONS_WORKER_RUNTIME',
    'WEBSITE_RUN_FROM_PACKAGE',
    'WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID',
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  ];
  const keysOf = (file: BicepFile, name: string) => objectAt(file.vars.get(name)).props.map((p) => p.key);

  it('names only settings AppSettingsSchema declares for the service itself', () => {
    expect(keysOf(main, 'diagnoseSettings').filter((k) => !(SETTING_NAMES as string[]).includes(k))).toEqual([]);
  });

  it('adds only platform settings on the host side, and writes exactly those sets', () => {
    for (const name of ['hostStorageSettings', 'consumptionSettings']) {
      expect(keysOf(fn, name).filter((k) => !PLATFORM_SETTINGS.includes(k) && !(SETTING_NAMES as string[]).includes(k))).toEqual([]);
    }
    const config = fn.resources.find((r) => r.ref.startsWith('Microsoft.Web/sites/config@'))!;
    expect(show(config.body.props.find((p) => p.key === 'properties')!.value)).toBe(
      'union(appSettings, hostStorageSettings, isFlex ? {  } : consumptionSettings)',
    );
  });

  it('reaches host storage by identity only: no key, no connection string, shared keys off', () => {
    const host = Object.fromEntries(objectAt(fn.vars.get('hostStorageSettings')).props.map((p) => [p.key, show(p.value)]));
    expect(host).toMatchObject({ AzureWebJobsStorage__credential: "'managedidentity'", AzureWebJobsStorage__clientId: 'hostIdentityClientId' });
    expect(allBicep).not.toMatch(/listKeys|AccountKey|SharedAccessSignature|connectionString\(/i);
    const account = storage.resources.find((r) => r.ref.startsWith('Microsoft.Storage/storageAccounts@'))!;
    expect(Object.fromEntries(objectAt(account.body, 'properties').props.map((p) => [p.key, show(p.value)]))).toMatchObject({
      allowSharedKeyAccess: 'false',
      allowBlobPublicAccess: 'false',
      minimumTlsVersion: "'TLS1_2'",
      supportsHttpsTrafficOnly: 'true',
    });
  });
});

describe('the Function App', () => {
  const site = fn.resources.find((r) => r.ref.startsWith('Microsoft.Web/sites@'))!;

  it('runs Node 22 on Linux', () => {
    expect(show(main.vars.get('nodeVersion')!)).toBe("'22'");
    expect(show(site.body.props.find((p) => p.key === 'kind')!.value)).toBe("'functionapp,linux'");
    expect(show(objectAt(fn.vars.get('flexConfig'), 'functionAppConfig', 'runtime'))).toBe("{ name: 'node', version: nodeVersion }");
  });

  it('is Flex Consumption unless the Consumption plan is asked for', () => {
    const plan = main.params.get('hostingPlan')!;
    expect(show(plan.default!)).toBe("'FlexConsumption'");
    expect(show(plan.decorators.find((d) => d.name === 'allowed')!.args[0]!)).toBe("['FlexConsumption', 'Consumption']");
    expect(Object.keys(new Evaluator(fn, { params: {}, environment: {} }).variable('planSkus') as object)).toEqual(['FlexConsumption', 'Consumption']);
  });

  it('accepts HTTPS only, TLS 1.2 and up, no FTP and no basic-auth publishing', () => {
    expect(show(site.body.props.find((p) => p.key === 'properties')!.value)).toContain('httpsOnly: true');
    expect(new Evaluator(fn, { params: {}, environment: {} }).variable('secureSiteConfig')).toEqual({
      minTlsVersion: '1.2',
      scmMinTlsVersion: '1.2',
      ftpsState: 'Disabled',
      http20Enabled: true,
    });
    const policies = fn.resources.find((r) => r.ref.startsWith('Microsoft.Web/sites/basicPublishingCredentialsPolicies@'))!;
    expect(show(policies.loop!.source)).toBe("['ftp', 'scm']");
    expect(show(objectAt(policies.body, 'properties'))).toBe('{ allow: false }');
  });
});

describe('alerts (infra/app/alerts.bicep, issue 9)', () => {
  const alerts = moduleNamed(main, 'alerts');

  it('is off unless enableAlerts is set', () => {
    expect(show(main.params.get('enableAlerts')!.default!)).toBe('false');
    expect(show(main.params.get('alertActionGroupId')!.default!)).toBe("''");
    expect(show(alerts.condition!)).toBe('enableAlerts');
  });

  it('passes the parameters the alert module declares, and every one it requires', () => {
    const passed = Object.keys(paramsOf(alerts));
    const file = path.join(INFRA, 'app/alerts.bicep');
    // The module arrives on another branch; until then, hold the call to the agreed interface.
    const declared = fs.existsSync(file)
      ? [...readBicep(file).params.values()]
      : [
          { name: 'name', default: undefined },
          { name: 'location', default: undefined },
          { name: 'appInsightsId', default: undefined },
          { name: 'actionGroupId', default: {} },
          { name: 'windowMinutes', default: {} },
        ];
    expect(passed.filter((p) => !declared.some((d) => d.name === p))).toEqual([]);
    expect(declared.filter((d) => !d.default && !passed.includes(d.name)).map((d) => d.name)).toEqual([]);
  });
});

describe('outputs', () => {
  it('gives azd the URLs and the identity, never under a name the service or an Azure SDK credential reads', () => {
    expect([...main.outputs.keys()]).toEqual(expect.arrayContaining(['DIAGNOSE_URL', 'OPENAPI_URL', 'DIAGNOSE_IDENTITY_PRINCIPAL_ID', 'AZURE_FUNCTION_APP_NAME']));
    expect([...main.outputs.keys()].filter((k) => (SETTING_NAMES as string[]).includes(k))).toEqual([]);
    expect(show(main.outputs.get('DIAGNOSE_URL')!.value)).toBe("'https://${app.outputs.defaultHostName}/api/diagnose'");
  });
});

describe('the deploy instructions (README.md, docs/*.md, infra/README.md)', () => {
  const docs = ['README.md', 'infra/README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)].map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
  const envNames = new Set([...fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]!));

  it('set only azd environment values the parameters read (or azd itself: AZURE_RESOURCE_GROUP)', () => {
    const set = [...docs.matchAll(/azd env set ([A-Z0-9_]+)/g)].map((m) => m[1]!);
    expect(set.length).toBeGreaterThan(3);
    expect(set.filter((n) => !envNames.has(n) && n !== 'AZURE_RESOURCE_GROUP')).toEqual([]);
  });

  it('read only outputs the template has', () => {
    const outputs = [...main.outputs.keys()];
    const read = [...docs.matchAll(/\$\{?(DIAGNOSE_[A-Z_]+|AZURE_FUNCTION_APP_NAME|OPENAPI_URL|PACKAGE_URL)\b/g), ...docs.matchAll(/properties\.outputs\.([A-Z_]+)/g)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(3);
    expect(read.filter((n) => !outputs.includes(n))).toEqual([]);
  });

  it('pass only parameters main.bicep declares to az deployment group create', () => {
    // The command and its continuation lines (each ending in a backslash).
    const block = /^az deployment group create (?:.*\\\n)*.*$/m.exec(docs)![0];
    const passed = [...block.matchAll(/\s([a-z]\w*)=/g)].map((m) => m[1]!);
    expect(passed.length).toBeGreaterThan(1);
    expect(passed.filter((n) => !main.params.has(n))).toEqual([]);
  });
});

const propsOf = (e: Expr | undefined) => Object.fromEntries(objectAt(e).props.map((p) => [p.key, show(p.value)]));

describe('Application Insights with Entra authentication only', () => {
  const monitoring = readBicep(path.join(INFRA, 'app/monitoring.bicep'));

  it('refuses local (instrumentation-key) authentication', () => {
    const component = monitoring.resources.find((r) => r.ref.startsWith('Microsoft.Insights/components@'))!;
    expect(propsOf(objectAt(component.body, 'properties'))).toMatchObject({ DisableLocalAuth: 'true' });
  });

  it('grants the host identity Monitoring Metrics Publisher (3913510d-…) on the component, before the app starts', () => {
    expect(roleGuid('monitoringMetricsPublisher')).toBe('3913510d-42f4-4e42-8a64-420c390055eb');
    expect(paramsOf(moduleNamed(main, 'hostMonitoringAccess'))).toMatchObject({ scopeKind: "'applicationInsights'", scopeName: 'monitoring.outputs.name' });
    expect(show(moduleNamed(main, 'app').body.props.find((p) => p.key === 'dependsOn')!.value)).toContain('hostMonitoringAccess');
  });

  it('tells the host and the watch to sign in as that identity, in a form the service accepts', () => {
    const host = propsOf(fn.vars.get('hostStorageSettings'));
    expect(host.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe("'Authorization=AAD;ClientId=${hostIdentityClientId}'");
    const clientId = '4a8e2c6f-0b3d-4e7a-9c15-6f2b8d0e4a37';
    const settings = loadSettings({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x', APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `Authorization=AAD;ClientId=${clientId}` });
    expect(settings.watch.appInsightsEntra).toEqual({ clientId });
  });
});

describe('private networks (vnetEnabled, app/network.bicep)', () => {
  const network = readBicep(path.join(INFRA, 'app/network.bicep'));
  const storageParams = () => paramsOf(moduleNamed(main, 'storage'));

  it('is off by default, and on Flex Consumption only (Linux Consumption has no virtual network integration)', () => {
    expect(show(main.params.get('vnetEnabled')!.default!)).toBe('false');
    expect(evaluator({}).variable('useVnet')).toBe(false);
    expect(evaluator({ vnetEnabled: true }).variable('useVnet')).toBe(true);
    expect(evaluator({ vnetEnabled: true, hostingPlan: 'Consumption' }).variable('useVnet')).toBe(false);
    expect(show(moduleNamed(main, 'network').condition!)).toBe('useVnet');
  });

  it('integrates the app with a subnet delegated to Microsoft.App/environments, routing all outbound traffic through it', () => {
    expect(show(network.vars.get('appSubnetDelegation')!)).toBe("'Microsoft.App/environments'");
    const vnet = network.resources.find((r) => r.ref.startsWith('Microsoft.Network/virtualNetworks@'))!;
    expect(show(vnet.body)).toContain('delegations: [{ name: \'functions\', properties: { serviceName: appSubnetDelegation } }]');
    expect(show(network.outputs.get('appSubnetId')!.value)).toBe('vnet.properties.subnets[0].id');
    expect(paramsOf(moduleNamed(main, 'app')).virtualNetworkSubnetId).toBe("useVnet ? network!.outputs.appSubnetId : ''");
    expect(new Evaluator(fn, { params: { virtualNetworkSubnetId: '/sub/app' }, environment: {} }).variable('vnetConfig')).toEqual({ virtualNetworkSubnetId: '/sub/app', vnetRouteAllEnabled: true });
    expect(new Evaluator(fn, { params: { virtualNetworkSubnetId: '' }, environment: {} }).variable('vnetConfig')).toEqual({});
    const site = fn.resources.find((r) => r.ref.startsWith('Microsoft.Web/sites@'))!;
    expect(show(site.body.props.find((p) => p.key === 'properties')!.value)).toMatch(/vnetConfig\)$/);
  });

  it('puts the app\'s own storage behind private endpoints with their DNS zones, one loop over blob, queue and table', () => {
    expect(new Evaluator(network, { params: {}, environment: {} }).variable('storageServices')).toEqual(['blob', 'queue', 'table']);
    const loops = network.resources.filter((r) => r.loop);
    expect(loops.map((r) => r.ref.split('@')[0])).toEqual([
      'Microsoft.Network/privateDnsZones',
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
      'Microsoft.Network/privateEndpoints',
      'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
    ]);
    for (const l of loops) expect(show(l.loop!.source)).toBe('storageServices');
    const zone = loops[0]!;
    expect(show(zone.body.props.find((p) => p.key === 'name')!.value)).toBe("'privatelink.${service}.${environment().suffixes.storage}'");
    const endpoint = loops[2]!;
    expect(show(endpoint.body)).toContain('privateLinkServiceId: account.id, groupIds: [service]');
    expect(storageParams().privateOnly).toBe('useVnet');
    const account = storage.resources.find((r) => r.ref.startsWith('Microsoft.Storage/storageAccounts@'))!;
    expect(propsOf(objectAt(account.body, 'properties'))).toMatchObject({ publicNetworkAccess: "privateOnly ? 'Disabled' : 'Enabled'" });
  });
});

describe('availability test (app/availability.bicep)', () => {
  const availability = readBicep(path.join(INFRA, 'app/availability.bicep'));
  const webTest = availability.resources.find((r) => r.ref.startsWith('Microsoft.Insights/webtests@'))!;
  const alert = availability.resources.find((r) => r.ref.startsWith('Microsoft.Insights/metricAlerts@'))!;

  it('is on by default, for the plans without an App Service Health check', () => {
    expect(show(main.params.get('enableAvailabilityTest')!.default!)).toBe('true');
    expect(show(moduleNamed(main, 'availability').condition!)).toBe('enableAvailabilityTest');
    expect(show(main.params.get('hostingPlan')!.decorators.find((d) => d.name === 'allowed')!.args[0]!)).toBe("['FlexConsumption', 'Consumption']");
  });

  it('is a standard test of GET /api/health on the app\'s default host name, expecting 200, linked to the component', () => {
    expect(show(webTest.body.props.find((p) => p.key === 'kind')!.value)).toBe("'standard'");
    const props = propsOf(objectAt(webTest.body, 'properties'));
    expect(props).toMatchObject({ Kind: "'standard'", Enabled: 'true', Frequency: '300' });
    expect(show(objectAt(webTest.body, 'properties', 'Request'))).toBe("{ RequestUrl: healthUrl, HttpVerb: 'GET', ParseDependentRequests: false }");
    expect(show(objectAt(webTest.body, 'properties', 'ValidationRules'))).toContain('ExpectedHttpStatusCode: 200');
    expect(show(webTest.body.props.find((p) => p.key === 'tags')!.value)).toBe("union(tags, { ${…}: 'Resource' })");
    expect(paramsOf(moduleNamed(main, 'availability')).healthUrl).toBe("'https://${app.outputs.defaultHostName}/api/health'");
    // /api/health is anonymous and GET-only in the route table: the test needs no key.
    expect(createRoutes(() => loadSettings({})).find((r) => r.route === 'health')).toMatchObject({ methods: ['GET'], authLevel: 'anonymous' });
    expect((new Evaluator(availability, { params: {}, environment: {} }).variable('testLocations') as string[]).length).toBeGreaterThanOrEqual(5);
  });

  it('alerts on the test\'s own location-availability criterion, notifying the action group when one is given', () => {
    const criteria = propsOf(objectAt(alert.body, 'properties', 'criteria'));
    expect(criteria).toEqual({
      'odata.type': "'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'",
      webTestId: 'webTest.id',
      componentId: 'appInsightsId',
      failedLocationCount: 'failedLocationCount',
    });
    expect(show(objectAt(alert.body, 'properties').props.find((p) => p.key === 'scopes')!.value)).toBe('[webTest.id, appInsightsId]');
    expect(paramsOf(moduleNamed(main, 'availability')).actionGroupId).toBe('alertActionGroupId');
  });
});

describe('an Azure SQL database (granted with T-SQL, not by ARM)', () => {
  const SQL_DB_ID = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-orders/databases/orders`;

  it('is diagnosed with the host name of the deployment\'s cloud, and gets no Azure role assignment', () => {
    for (const cloud of CLOUD_NAMES) {
      const e = evaluator({ sqlDatabaseResourceId: SQL_DB_ID }, cloud);
      const env = { DIAGNOSE_TARGETS: JSON.stringify(e.variable('diagnoseTargets')), AZURE_CLOUD: (e.variable('azureCloudNames') as Record<string, string>)[ARM_ENVIRONMENTS[cloud].name] };
      expect(loadSettings(env).targets).toEqual([
        { name: 'sql', kind: 'azureSql', server: `sql-orders.${CLOUDS[cloud].dnsSuffixes.azureSql}`, database: 'orders', resourceId: SQL_DB_ID.replace(/\/databases\/orders$/, '') },
      ]);
      expect(e.variable('configuredDependencies')).toEqual([]);
    }
  });

  it('outputs the T-SQL the server\'s Entra admin runs, naming the diagnosed identity', () => {
    const grant = show(main.outputs.get('DIAGNOSE_SQL_GRANT')!.value);
    expect(grant).toContain('CREATE USER [${diagnosedIdentityName}] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [${diagnosedIdentityName}];');
    expect(show(main.vars.get('diagnosedIdentityName')!)).toBe("last(split(diagnosedIdentity.id, '/'))");
  });
});
