import { describe, expect, it } from 'vitest';
import { redact } from '../../src/config/redact.ts';
import { configError, loadYaml, yaml } from './config-files.ts';

describe('secrets', () => {
  it('collects values from the environment, secret settings, tokens and URL passwords', async () => {
    const project = await loadYaml(yaml(
      'state: postgres://lastmile:st8te-pass@127.0.0.1:5432/lastmile',
      'destinations:',
      '  hook:',
      '    type: http',
      '    url: "http://127.0.0.1:9/${HOOK_PATH}"',
      '    headers: { Authorization: "Bearer literal-header-token" }',
      '  crm:',
      '    type: salesforce',
      '    instanceUrl: https://example.my.salesforce.com',
      '    auth: { clientId: public-client-id, clientSecret: literal-client-secret }',
      'tokens:',
      '  - { token: api-token-0123, role: read }',
    ), { HOOK_PATH: 'hook-path-from-env', UNUSED: 'never-referenced' });

    expect(project.secrets).toEqual(expect.arrayContaining([
      'hook-path-from-env', 'Bearer literal-header-token', 'literal-client-secret', 'api-token-0123', 'st8te-pass',
    ]));
    // Only what the config uses or declares secret: not every variable, not public settings.
    expect(project.secrets).not.toContain('never-referenced');
    expect(project.secrets).not.toContain('public-client-id');
    expect(project.secrets).not.toContain('https://example.my.salesforce.com');
  });

  it('never shows a secret in a config error', async () => {
    const error = await configError(yaml(
      'destinations:',
      '  hook:',
      '    type: http',
      '    url: http://127.0.0.1:9/hook',
      '    timeoutMs: "${HOOK_TIMEOUT_SECRET}"',
    ), { HOOK_TIMEOUT_SECRET: 'sup3r-secret-value' });
    expect(error.message).toMatch(/lastmile\.yml:5 destinations\.hook\.timeoutMs: expected a number, got "\*\*\*"/);
    expect(error.message).not.toContain('sup3r-secret-value');
  });
});

describe('redact', () => {
  it('replaces every occurrence, longest secret first', () => {
    expect(redact('token abcd-1234 then abcd-1234-extra and abcd-1234', ['abcd-1234', 'abcd-1234-extra']))
      .toBe('token *** then *** and ***');
  });

  it('hides the URL-encoded form too', () => {
    expect(redact('GET /x?key=p%40ss%2Fword', ['p@ss/word'])).toBe('GET /x?key=***');
  });

  it('hides the JSON-escaped form, and the bare credential of an Authorization value', () => {
    expect(redact('{"error":"bad \\"q\\"uote-token"}', ['bad "q"uote-token'])).toBe('{"error":"***"}');
    expect(redact('token abc123-secret is not valid', ['Bearer abc123-secret'])).toBe('token *** is not valid');
    const basic = `Basic ${Buffer.from('user:pa55-word').toString('base64')}`;
    expect(redact('login user:pa55-word, then pa55-word alone', [basic])).toBe('login ***, then *** alone');
  });

  it('ignores empty and very short values, which would mangle every message', () => {
    expect(redact('run 1 of 10: ok', ['', '1', 'ok'])).toBe('run 1 of 10: ok');
  });
});
