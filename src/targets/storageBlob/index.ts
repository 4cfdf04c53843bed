import { z } from 'zod';
import { ROLES } from '../../catalog/roles';
import { comment, sh } from '../../advice/shell';
import { baseFields, httpsUrl } from '../fields';
import type { TargetKind } from '../kind';
import { accountArg, storageFixes, storageKindCommon } from '../storageShared';

/** A blob container (or one blob in it): the probe reads blob properties or pulls one page of the listing. */
export const StorageBlobTargetSchema = z.object({
  ...baseFields,
  kind: z.literal('storageBlob'),
  accountUrl: httpsUrl('https://<account>.blob.core.windows.net'),
  container: z
    .string()
    .regex(/^(\$root|[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9])$/, 'expected a container name (3-63 lowercase letters, digits, "-")'),
  blobName: z.string().min(1).max(1024).optional(),
});
export type StorageBlobTarget = z.infer<typeof StorageBlobTargetSchema>;

export { accountArg, accountName } from '../storageShared';
const containerScope = (t: StorageBlobTarget) => `/blobServices/default/containers/${t.container}`;

export const storageBlob: TargetKind<StorageBlobTarget, typeof StorageBlobTargetSchema> = {
  kind: 'storageBlob',
  schema: StorageBlobTargetSchema,
  nouns: { service: 'Storage', short: 'Storage', target: 'Storage blob', hosts: 'Blob Storage', resource: 'storage account', sibling: 'container' },
  // Audiences, hosts, the account as resource, Storage's error dialect and causes (src/targets/storageShared.ts).
  ...storageKindCommon('blob'),
  // BlobClient.getProperties / ContainerClient.listBlobsFlat both need blobs/read.
  operation: {
    description: 'read blobs',
    plane: 'data',
    permission: 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
    leastRole: ROLES.storageBlobDataReader,
  },
  scopes: { grant: containerScope, touched: containerScope },
  object: (t) => (t.blobName ? 'blob' : 'container'),
  fixes: {
    resource_not_found: ({ target: t }) => [
      t.blobName
        ? `az storage blob list --account-name ${accountArg(t.accountUrl)} --container-name ${sh(t.container)} --auth-mode login --query "[].name" -o tsv`
        : `az storage container list --account-name ${accountArg(t.accountUrl)} --auth-mode login --query "[].name" -o tsv`,
      comment(`fix "container"/"blobName" of target "${t.name}", or create what is missing`),
    ],
    ...storageFixes('blob'),
  },
  loadProbe: async () => (await import('./probe')).probeStorageBlob,
};
