import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import { boundedHttpClient } from '../../wire/boundedClient';
import { correlationFrom, guarded, type CallOutcome, type Probe } from '../probe';
import type { StorageTableTarget } from './index';

/**
 * Query one entity of the table — the first page of listEntities with a page size of 1 ($top=1), asking only for its
 * PartitionKey ($select) — which needs the data action tables/entities/read (Storage Table Data Reader). With no table
 * named, pull one page of the account's table list instead (tables/read, the same role). Either way only a count is
 * reported: no entity property, key or table name leaves the probe. The page is pulled on purpose: a pager that is
 * never iterated sends no request and proves nothing.
 */
export const probeStorageTable: Probe<StorageTableTarget> = (target, ctx) =>
  guarded(target.accountUrl, ctx, async (): Promise<CallOutcome> => {
    let headers: unknown;
    // No retries: the first answer is the evidence.
    const options: TableServiceClientOptions = { retryOptions: { maxRetries: 0 }, httpClient: boundedHttpClient(ctx.maxResponseBytes) };
    const onResponse = (raw: { headers: unknown }) => {
      headers = raw.headers;
    };
    if (target.tableName) {
      const table = new TableClient(target.accountUrl, target.tableName, ctx.credential, options);
      const page = await table
        .listEntities({ abortSignal: ctx.signal, onResponse, queryOptions: { select: ['PartitionKey'] } })
        .byPage({ maxPageSize: 1 })
        .next();
      return {
        ok: true,
        httpStatus: 200,
        result: { queryable: true, entitiesOnFirstPage: page.done ? 0 : page.value.length },
        correlation: correlationFrom(headers),
      };
    }
    const service = new TableServiceClient(target.accountUrl, ctx.credential, options);
    const page = await service.listTables({ abortSignal: ctx.signal, onResponse }).byPage({ maxPageSize: 1 }).next();
    return {
      ok: true,
      httpStatus: 200,
      result: { tablesListable: true, tablesOnFirstPage: page.done ? 0 : page.value.length },
      correlation: correlationFrom(headers),
    };
  });
