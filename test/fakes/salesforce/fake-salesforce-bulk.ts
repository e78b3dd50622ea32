import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { FakeObject } from './fake-salesforce-objects.ts';
import type { FakeStore, SaveResult } from './fake-salesforce-store.ts';
import { csvCell } from './fake-salesforce-values.ts';
import { makeId } from './fake-salesforce-ids.ts';

type Answer = { status: number; json?: unknown; csv?: string };
const error = (status: number, errorCode: string, message: string): Answer => ({ status, json: [{ errorCode, message }] });
const OPERATIONS = ['insert', 'update', 'upsert', 'delete'];

interface Job {
  id: string;
  object: string;
  operation: string;
  externalIdFieldName?: string;
  state: 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';
  createdDate: string;
  csv?: string;
  polls: number;
  /** When the job was closed (UploadComplete), for a fake that processes at a rate. */
  closedAt?: number;
  processed: number;
  failed: number;
  errorMessage?: string;
  successful: string[][];
  failures: string[][];
  header: string[];
}

/**
 * Bulk API 2.0 ingest: one CSV upload per job, processing that advances with each status
 * poll (Open → UploadComplete → InProgress → JobComplete), and result CSVs whose row order
 * does not follow the upload (as the docs warn).
 *
 * Processing ends after a number of polls, or, as a real org does, after as long as its rate
 * takes (`rowsPerSecond`), with numberRecordsProcessed growing meanwhile.
 */
export type BulkPace = { pollsToComplete: number } | { rowsPerSecond: number };

export class FakeBulk {
  readonly jobs = new Map<string, Job>();
  private serial = 1;

  constructor(
    private readonly objects: Record<string, FakeObject>,
    private readonly store: FakeStore,
    public pace: BulkPace,
  ) {}

  route(method: string, rest: string, body: string, version: string): Answer | undefined {
    if (method === 'POST' && rest === '') return this.create(body, version);
    const match = /^\/([^/]+)(\/batches|\/successfulResults|\/failedResults|\/unprocessedrecords)?\/?$/.exec(rest);
    if (!match) return undefined;
    const job = this.jobs.get(match[1]);
    if (!job) return error(404, 'NOT_FOUND', 'The requested resource does not exist');
    const part = match[2];
    if (method === 'PUT' && part === '/batches') return this.upload(job, body);
    if (method === 'PATCH' && !part) return this.changeState(job, body, version);
    if (method === 'GET' && !part) return this.poll(job, version);
    if (method === 'GET' && part === '/successfulResults') return this.results(job, ['sf__Id', 'sf__Created'], job.successful);
    if (method === 'GET' && part === '/failedResults') return this.results(job, ['sf__Id', 'sf__Error'], job.failures);
    if (method === 'GET' && part === '/unprocessedrecords') return this.results(job, [], []);
    return undefined;
  }

  private create(body: string, version: string): Answer {
    let spec: Record<string, string>;
    try {
      spec = JSON.parse(body);
    } catch {
      return error(400, 'JSON_PARSER_ERROR', 'Unexpected character in job specification');
    }
    if (!this.objects[spec.object]) return error(400, 'INVALIDJOB', `InvalidJob : Unable to find object: ${spec.object}`);
    if (!OPERATIONS.includes(spec.operation)) return error(400, 'INVALIDJOB', `InvalidJob : Invalid operation: ${spec.operation}`);
    if ((spec.contentType ?? 'CSV') !== 'CSV') return error(400, 'INVALIDJOB', 'InvalidJob : contentType must be CSV');
    if (spec.operation === 'upsert' && !spec.externalIdFieldName) return error(400, 'INVALIDJOB', 'InvalidJob : External ID was blank for Upsert');
    const id = makeId('750', this.serial++);
    const job: Job = {
      id, object: spec.object, operation: spec.operation, externalIdFieldName: spec.externalIdFieldName, state: 'Open',
      createdDate: new Date().toISOString(), polls: 0, processed: 0, failed: 0, successful: [], failures: [], header: [],
    };
    this.jobs.set(id, job);
    return { status: 200, json: this.info(job, version) };
  }

  private upload(job: Job, body: string): Answer {
    if (job.state !== 'Open') return error(409, 'INVALIDJOBSTATE', `Job ${job.id} is not Open, it is ${job.state}`);
    if (job.csv !== undefined) {
      return error(400, 'INVALIDJOBSTATE', `Found multiple contents for job: <${job.id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.`);
    }
    job.csv = body;
    return { status: 201 };
  }

  private changeState(job: Job, body: string, version: string): Answer {
    const wanted = (JSON.parse(body || '{}') as { state?: string }).state;
    if (wanted === 'UploadComplete' && job.state === 'Open') {
      job.state = 'UploadComplete';
      job.closedAt = Date.now();
    }
    else if (wanted === 'Aborted' && !['JobComplete', 'Failed'].includes(job.state)) job.state = 'Aborted';
    else return error(400, 'INVALIDJOBSTATE', `Cannot change the state of job ${job.id} from ${job.state} to ${wanted}`);
    return { status: 200, json: this.info(job, version) };
  }

  private poll(job: Job, version: string): Answer {
    if (job.state === 'UploadComplete' || job.state === 'InProgress') {
      job.polls++;
      job.state = 'InProgress';
      if ('pollsToComplete' in this.pace) {
        if (job.polls >= this.pace.pollsToComplete) this.process(job);
      } else {
        const total = rowCount(job.csv ?? '');
        const done = Math.floor(((Date.now() - job.closedAt!) * this.pace.rowsPerSecond) / 1000);
        if (done >= total) this.process(job);
        else return { status: 200, json: { ...(this.info(job, version) as object), numberRecordsProcessed: done, totalProcessingTime: done } };
      }
    }
    return { status: 200, json: this.info(job, version) };
  }

  private process(job: Job): void {
    const object = this.objects[job.object];
    const rows = parse(job.csv ?? '', { relax_column_count: true }) as string[][];
    const header = rows.shift() ?? [];
    job.header = header;
    const fields = new Map(object.fields.map((field) => [field.name, field]));
    const unknown = header.find((name) => !fields.has(name));
    if (unknown || !header.length) {
      job.state = 'Failed';
      job.errorMessage = unknown ? `InvalidBatch : Field name not found : ${unknown}` : 'InvalidBatch : No content';
      return;
    }
    for (const cells of rows) {
      const values: Record<string, unknown> = {};
      let typeError: string | undefined;
      header.forEach((name, index) => {
        const read = csvCell(fields.get(name)!, cells[index] ?? '');
        if (read.error) typeError ??= `INVALID_TYPE_ON_FIELD_IN_RECORD:${read.error}:${name} --`;
        else if ('value' in read) values[name] = read.value;
      });
      const result: SaveResult | undefined = typeError ? undefined : this.apply(job, object, values);
      job.processed++;
      if (result?.success) job.successful.push([result.id, String(result.created ?? false), ...cells]);
      else {
        job.failed++;
        const first = result?.errors[0];
        const message = typeError ?? `${first!.statusCode}:${first!.message}:${first!.fields.join(',')} --`;
        job.failures.push([result?.id ?? '', message, ...cells]);
      }
    }
    // The docs: result order is not guaranteed to match the upload.
    job.successful.reverse();
    job.state = 'JobComplete';
  }

  private apply(job: Job, object: FakeObject, values: Record<string, unknown>): SaveResult {
    const { Id: id, ...rest } = values;
    if (job.operation === 'insert') return this.store.insert(object, values);
    if (job.operation === 'update') return this.store.update(object, id, rest);
    if (job.operation === 'delete') return this.store.delete(object, id);
    return this.store.upsert(object, job.externalIdFieldName!, values);
  }

  private results(job: Job, leading: string[], rows: string[][]): Answer {
    if (!['JobComplete', 'Failed', 'Aborted'].includes(job.state)) {
      return error(400, 'INVALIDJOBSTATE', `Job ${job.id} is not finished, it is ${job.state}`);
    }
    return { status: 200, csv: stringify([[...leading, ...job.header], ...rows], { record_delimiter: 'unix' }) };
  }

  private info(job: Job, version: string): unknown {
    return {
      id: job.id, operation: job.operation, object: job.object, createdById: '0055g00000FAKEAAA', createdDate: job.createdDate,
      systemModstamp: new Date().toISOString(), state: job.state, concurrencyMode: 'Parallel', contentType: 'CSV',
      apiVersion: Number(version), jobType: 'V2Ingest', lineEnding: 'LF', columnDelimiter: 'COMMA',
      contentUrl: `services/data/v${version}/jobs/ingest/${job.id}/batches`,
      numberRecordsProcessed: job.processed, numberRecordsFailed: job.failed, retries: 0, totalProcessingTime: job.processed,
      ...(job.externalIdFieldName ? { externalIdFieldName: job.externalIdFieldName } : {}),
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
      requestId: randomUUID(),
    };
  }
}

/** Data rows of an uploaded CSV (its lines but the header; the fake's values hold no newlines). */
function rowCount(csv: string): number {
  let lines = 0;
  for (let at = csv.indexOf('\n'); at !== -1; at = csv.indexOf('\n', at + 1)) lines++;
  return Math.max(0, lines - (csv.endsWith('\n') ? 1 : 0));
}
