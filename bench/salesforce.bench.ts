/**
 * Salesforce API calls for one large run: the same changed rows written through sObject
 * Collections (200 records a request) and through Bulk API 2.0 ingest jobs, driving the
 * destination's write() directly against the local fake org. Counts every HTTP request the
 * destination sends (token included) and what the org charged to its daily API quota.
 */
import type { FieldMapping, SyncConfig } from '../src/config/project.ts';
import type { Change } from '../src/destinations/destination.ts';
import { SalesforceDestination } from '../src/destinations/salesforce/salesforce-destination.ts';
import { salesforceConnection, salesforceSyncOptions } from '../src/destinations/salesforce/salesforce-type.ts';
import { startFakeSalesforce } from '../test/fakes/salesforce/fake-salesforce.ts';
import { recordingContext } from '../test/helpers/write-context.ts';
import type { BenchTable } from './run.ts';

const ROWS = process.env.LASTMILE_BENCH_QUICK === '1' ? 10_000 : 50_000;
/** The fake org processes Bulk jobs at this pace, so the destination's polling is measured as it would run. */
const BULK_ROWS_PER_SECOND = 5_000;
const CLIENT = { clientId: 'bench-client', clientSecret: 'bench-secret' };

interface Scenario {
  api: 'rest' | 'bulk';
  label: string;
  bulkJobSize?: number;
  op: 'upsert' | 'update';
}

const scenarios: Scenario[] = [
  { api: 'rest', label: 'sObject Collections', op: 'upsert' },
  { api: 'bulk', label: 'Bulk API 2.0, default job size (100,000 rows)', op: 'upsert' },
  { api: 'bulk', label: 'Bulk API 2.0, 10,000-row jobs', bulkJobSize: 10_000, op: 'upsert' },
  { api: 'rest', label: 'sObject Collections', op: 'update' },
  { api: 'bulk', label: 'Bulk API 2.0, default job size (100,000 rows)', op: 'update' },
];

export default async function run(): Promise<BenchTable[]> {
  const measured: ({ scenario: Scenario } & Awaited<ReturnType<typeof measure>>)[] = [];
  for (const scenario of scenarios) measured.push({ scenario, ...(await measure(scenario)) });
  const baseline = (op: string) => measured.find((row) => row.scenario.op === op && row.scenario.api === 'rest')!.apiCalls;
  const rows = measured.map(({ scenario, apiCalls, charged, jobs, polls, delivered, wallMs }) => ({
    operation: scenario.op,
    api: scenario.label,
    rows: ROWS,
    delivered,
    'bulk jobs': jobs,
    'status polls': polls,
    'API calls (sent)': apiCalls,
    'charged to daily quota': charged,
    '% of Collections calls': ((100 * apiCalls) / baseline(scenario.op)).toFixed(1),
    'wall (s, local fake)': (wallMs / 1000).toFixed(1),
  }));
  return [{ title: `Salesforce: API calls to write ${ROWS.toLocaleString('en-US')} changed Contacts (fake org, Bulk jobs processed at ${BULK_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s)`, rows }];
}

async function measure(scenario: Scenario) {
  const fake = await startFakeSalesforce({ apps: [CLIENT], dailyApiLimit: 1_000_000, bulkRowsPerSecond: BULK_ROWS_PER_SECOND });
  try {
    const destination = makeDestination(fake.url, scenario);
    // Updates know the Salesforce Ids from an earlier delivery (Change.destId).
    const ids = scenario.op === 'update'
      ? Array.from({ length: ROWS }, (_, n) => fake.seed('Contact', { External_Id__c: `c-${n}`, LastName: `Before ${n}` }))
      : [];
    await destination.check(AbortSignal.timeout(30_000));
    fake.apiUsed = 0;
    destination.planFor(ROWS);
    const ctx = recordingContext(AbortSignal.timeout(600_000));
    const changes: Change[] = Array.from({ length: ROWS }, (_, n) => ({
      key: `k${n}`, op: scenario.op, match: { External_Id__c: `c-${n}` },
      fields: { External_Id__c: `c-${n}`, LastName: `Contact ${n}`, Purchases__c: n % 1000 },
      ...(ids[n] ? { destId: ids[n] } : {}),
    }));
    const size = destination.capabilities.maxBatchSize;
    const started = Date.now();
    let delivered = 0;
    for (let start = 0; start < changes.length; start += size) {
      const results = await destination.write(changes.slice(start, start + size), ctx);
      delivered += results.filter((result) => result.outcome === 'delivered').length;
    }
    const polls = fake.calls().filter((call) => call.method === 'GET' && /\/jobs\/ingest\/750\w+$/.test(call.path)).length;
    return { apiCalls: ctx.apiCalls, charged: fake.apiUsed, jobs: fake.bulk.jobs.size, polls, delivered, wallMs: Date.now() - started };
  } finally {
    await fake.close();
  }
}

function makeDestination(url: string, scenario: Scenario): SalesforceDestination {
  const fields = ['External_Id__c', 'LastName', 'Purchases__c'];
  const mapping: Record<string, FieldMapping> = Object.fromEntries(fields.map((name) => [name, { kind: 'column', column: name }]));
  const sync: SyncConfig = {
    name: 'bench_contacts', model: 'contacts', destination: 'crm', mode: scenario.op, match: { id: 'External_Id__c' }, mapping,
    options: { object: 'Contact', api: scenario.api, ...(scenario.bulkJobSize ? { bulkJobSize: scenario.bulkJobSize } : {}) },
  };
  const connection = salesforceConnection.parse({ instanceUrl: url, auth: CLIENT });
  // The destination's own polling, as a run uses it.
  return new SalesforceDestination(
    { connection: { ...connection, name: 'crm', type: 'salesforce' }, options: salesforceSyncOptions.parse(sync.options), sync, rootDir: process.cwd() },
  );
}
