import { describe, expect, it } from 'vitest';
import { configError, loadYaml, yaml } from './config-files.ts';
import { createSource } from '../../src/engine/resolve-sync.ts';

describe('Snowflake and BigQuery sources in lastmile.yml', () => {
  it('load with their defaults, hide their keys and tokens, and create their sources', async () => {
    const project = await loadYaml(yaml(
      'sources:',
      '  sf:',
      '    type: snowflake',
      '    account: myorg-myaccount',
      '    user: LASTMILE',
      '    auth: { privateKey: "${SF_KEY}" }',
      '    warehouse: REPORTING',
      '  sf_oauth:',
      '    type: snowflake',
      '    account: xy12345.us-east-2.aws',
      '    user: LASTMILE',
      '    auth: { oauthToken: literal-oauth-token }',
      '  bq:',
      '    type: bigquery',
      '    credentials: "${BQ_KEY}"',
      '    location: EU',
    ), { SF_KEY: '-----BEGIN PRIVATE KEY-----sf-secret', BQ_KEY: '{"client_email":"a@b","private_key":"bq-secret","project_id":"p"}' });
    expect(project.sources.sf).toMatchObject({ type: 'snowflake', partitionConcurrency: 4, warehouse: 'REPORTING' });
    expect(project.sources.bq).toMatchObject({ type: 'bigquery', pageSize: 10_000, location: 'EU' });
    expect(project.secrets).toEqual(expect.arrayContaining(['-----BEGIN PRIVATE KEY-----sf-secret', 'literal-oauth-token']));
    expect(project.secrets.some((secret) => secret.includes('bq-secret'))).toBe(true);
    expect(project.secrets).not.toContain('LASTMILE');
    expect(createSource(project, project.sources.sf_oauth!).type).toBe('snowflake');
    expect(createSource(project, project.sources.bq!).type).toBe('bigquery');
  });

  it('a Snowflake source without auth is a config error naming the setting', async () => {
    const error = await configError(yaml(
      'sources:',
      '  sf:',
      '    type: snowflake',
      '    account: myorg-myaccount',
      '    user: LASTMILE',
    ));
    expect(error.message).toMatch(/sources\.sf\.auth/);
  });
});
