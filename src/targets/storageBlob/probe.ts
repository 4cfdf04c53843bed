import { BlobServiceClient, newPipeline } from '@azure/storage-blob';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, guarded, type CallOutcome, type Probe } from '../probe';
import type { StorageBlobTarget } from './index';

/**
 * Read blob properties (blobName set) or pull one page of the container listing — both need the data action
 * .../containers/blobs/read (Storage Blob Data Reader). The page is pulled on purpose: a pager that is never
 * iterated sends no request and proves nothing.
 */
export const probeStorageBlob: Probe<StorageBlobTarget> = (target, ctx) =>
  guarded(target.accountUrl, ctx, async (): Promise<CallOutcome> => {
    const pipeline = newPipeline(ctx.credential, { retryOptions: { maxTries: 1 } });
    // Storage takes only a v1 (core-http) client in its options; the v2 client its pipeline converts that into is
    // cached on the pipeline, so the capped client goes there. test/integration/hostileAnswers.test.ts proves it holds.
    (pipeline as unknown as { _coreHttpClient?: unknown })._coreHttpClient = boundedHttpClient(ctx.maxResponseBytes);
    const service = new BlobServiceClient(target.accountUrl, pipeline);
    const container = service.getContainerClient(target.container);
    if (target.blobName) {
      const blobClient = container.getBlobClient(target.blobName);
      let props;
      try {
        props = await blobClient.getProperties({ abortSignal: ctx.signal });
      } catch (err) {
        // A HEAD answer has no body: Storage's AuthenticationErrorDetail ("Issuer validation failed", …) is lost.
        // Ask again with a 1-byte GET, which carries it; the same data action, no more.
        const status = (err as { statusCode?: number }).statusCode;
        if (status === undefined || status < 400 || status === 404 || status === 429 || status >= 500) throw err;
        const ranged = await blobClient.download(0, 1, { abortSignal: ctx.signal });
        // Should it answer 2xx after all, its body is never read: close it rather than leave the socket waiting.
        (ranged.readableStreamBody as { destroy?: () => void } | undefined)?.destroy?.();
        throw err;
      }
      return {
        ok: true,
        httpStatus: 200,
        result: { blobReadable: true, contentLength: props.contentLength ?? null, lastModified: props.lastModified?.toISOString() ?? null },
        correlation: correlationFrom(props._response?.headers ?? { 'x-ms-request-id': props.requestId }),
      };
    }
    const page = await container.listBlobsFlat({ abortSignal: ctx.signal }).byPage({ maxPageSize: 5 }).next();
    const value = page.done ? undefined : page.value;
    return {
      ok: true,
      httpStatus: 200,
      result: { listable: true, blobsOnFirstPage: value?.segment.blobItems.length ?? 0 },
      correlation: correlationFrom(value?._response?.headers ?? { 'x-ms-request-id': value?.requestId }),
    };
  });
