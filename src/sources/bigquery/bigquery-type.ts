import { z } from 'zod';
import type { SourceType } from '../registry.ts';
import { BigquerySource } from './bigquery-source.ts';

/** The fields of a service account key file that signing in needs (the file has more). */
export const serviceAccountKey = z.looseObject({
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  private_key_id: z.string().optional(),
  project_id: z.string().optional(),
  token_uri: z.url().optional(),
});
export type ServiceAccountKey = z.infer<typeof serviceAccountKey>;

export const bigquerySettings = z.strictObject({
  /** The project jobs run (and are billed) in. Default: the key's project_id. */
  project: z.string().min(1).optional(),
  /** The service account key: the JSON file's text (e.g. `${GOOGLE_CREDENTIALS}`), or its fields. */
  credentials: z.union([z.string().min(1), serviceAccountKey]),
  /** Where the datasets live: US, EU, europe-west1 … Default: BigQuery's pick from the query. */
  location: z.string().min(1).optional(),
  /** The dataset unqualified table names resolve in. */
  dataset: z.string().min(1).optional(),
  /** Rows per page of results (maxResults). */
  pageSize: z.int().min(1).max(100_000).default(10_000),
  /** Where the REST API answers. Default: https://bigquery.googleapis.com. */
  url: z.url().optional(),
  /** Where the key's JWT is exchanged for a token. Default: the key's token_uri, else https://oauth2.googleapis.com/token. */
  tokenUrl: z.url().optional(),
});
export type BigquerySettings = z.input<typeof bigquerySettings>;

export const bigquerySourceType: SourceType<BigquerySettings> = {
  type: 'bigquery',
  settings: bigquerySettings,
  secretSettings: ['credentials'],
  create: (config) => new BigquerySource(config.name, config),
};
