import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { requestInspector } from '../../delivery/request-inspector.ts';
import { SyncError } from '../../errors.ts';
import { secretRedactor } from '../../config/redact.ts';
import type { SalesforceConnection } from './salesforce-type.ts';
import { unmeantAnswer } from '../unmeant-answer.ts';

export interface SalesforceToken {
  accessToken: string;
  /** Where the org's APIs answer, as the token endpoint says. */
  instanceUrl: string;
}

const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * An OAuth 2.0 session with one org: client credentials, JWT bearer (RS256 assertion) or a
 * refresh token. Concurrent writes share one token request; a token Salesforce calls
 * invalid is replaced once per expiry, never in a loop.
 */
export class SalesforceSession {
  private current?: Promise<SalesforceToken>;
  private signingKey?: KeyObject;

  constructor(
    private readonly destination: string,
    private readonly connection: SalesforceConnection,
  ) {}

  get flow(): 'client credentials' | 'JWT bearer' | 'refresh token' {
    const auth = this.connection.auth;
    return 'privateKey' in auth ? 'JWT bearer' : 'refreshToken' in auth ? 'refresh token' : 'client credentials';
  }

  get loginUrl(): string {
    const { loginUrl, instanceUrl } = this.connection;
    if (loginUrl) return trimSlash(loginUrl);
    // Client credentials only works on the org's own My Domain URL.
    if (this.flow === 'client credentials') {
      if (!instanceUrl) {
        throw new SyncError('config', `destination "${this.destination}": the client credentials flow needs instanceUrl (the org's My Domain URL) or loginUrl`);
      }
      return trimSlash(instanceUrl);
    }
    return DEFAULT_LOGIN_URL;
  }

  /** The current token; one is fetched through `send` when there is none (it is an HTTP request of the run). */
  token(signal: AbortSignal, send: (fetchToken: () => Promise<SalesforceToken>) => Promise<SalesforceToken>): Promise<SalesforceToken> {
    if (!this.current) {
      this.current = send(() => this.fetchToken(signal));
      this.current.catch(() => { this.current = undefined; });
    }
    return this.current;
  }

  /** Forgets `stale` (Salesforce answered INVALID_SESSION_ID); a newer token is kept. */
  async invalidate(stale: SalesforceToken): Promise<void> {
    const held = await this.current?.catch(() => undefined);
    if (held === stale) this.current = undefined;
  }

  private async fetchToken(signal: AbortSignal): Promise<SalesforceToken> {
    const url = `${this.loginUrl}/services/oauth2/token`;
    const form = new URLSearchParams(await this.grant());
    // Both bodies carry credentials (the grant, the token): the inspector keeps neither.
    const inspect = { destination: this.destination, method: 'POST', url, startedAt: performance.now(), requestBody: '(sign-in form: not kept)' };
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        signal,
      });
    } catch (cause) {
      requestInspector.record({ ...inspect, error: (cause as Error).message }, (text) => text);
      throw new SyncError('transient', `destination "${this.destination}": could not reach the Salesforce token endpoint ${url} (${(cause as Error).message})`, { cause });
    }
    const text = await response.text();
    requestInspector.record({ ...inspect, status: response.status, responseBody: response.ok ? '(token answer: not kept)' : text }, secretRedactor(Object.values(this.connection.auth)));
    const unmeant = unmeantAnswer(this.destination, `POST ${url}`, { status: response.status, contentType: response.headers.get('content-type'), body: text });
    if (unmeant) throw unmeant;
    const body = parseObject(text);
    if (response.ok && typeof body.access_token === 'string') {
      const instanceUrl = typeof body.instance_url === 'string' ? body.instance_url : this.connection.instanceUrl;
      if (!instanceUrl) throw new SyncError('config', `destination "${this.destination}": the token answer names no instance_url; set instanceUrl`);
      return { accessToken: body.access_token, instanceUrl: trimSlash(instanceUrl) };
    }
    const reason = `${String(body.error ?? response.status)}${body.error_description ? `: ${String(body.error_description)}` : ''}`;
    if (response.status >= 500 || response.status === 429) {
      throw new SyncError('transient', `destination "${this.destination}": the Salesforce token endpoint answered ${response.status} (${reason})`, { status: response.status });
    }
    throw new SyncError(
      'config',
      `destination "${this.destination}": Salesforce refused the ${this.flow} sign-in at ${url} (${reason}); check ${this.settingsToCheck()}`,
      { status: response.status, code: typeof body.error === 'string' ? body.error : undefined },
    );
  }

  private async grant(): Promise<Record<string, string>> {
    const auth = this.connection.auth;
    if ('privateKey' in auth) {
      return { grant_type: JWT_GRANT, assertion: await this.assertion(auth.clientId, auth.username, auth.privateKey) };
    }
    if ('refreshToken' in auth) {
      return {
        grant_type: 'refresh_token', client_id: auth.clientId, refresh_token: auth.refreshToken,
        ...(auth.clientSecret ? { client_secret: auth.clientSecret } : {}),
      };
    }
    return { grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret };
  }

  /** The JWT Salesforce expects: iss = consumer key, sub = username, aud = login URL, exp within 3 minutes. */
  private async assertion(clientId: string, username: string, pem: string): Promise<string> {
    if (!this.signingKey) {
      try {
        this.signingKey = createPrivateKey(pem);
      } catch {
        throw new SyncError('config', `destination "${this.destination}": auth.privateKey is not a readable PEM private key (PKCS#8 or PKCS#1 RSA)`);
      }
    }
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(clientId)
      .setSubject(username)
      .setAudience(this.loginUrl)
      .setExpirationTime('3m')
      .sign(this.signingKey);
  }

  private settingsToCheck(): string {
    const flow = this.flow;
    if (flow === 'JWT bearer') return 'auth.clientId, auth.username, auth.privateKey and loginUrl (the audience)';
    if (flow === 'refresh token') return 'auth.clientId and auth.refreshToken (it may have been revoked)';
    return 'auth.clientId and auth.clientSecret, and that the connected app allows the client credentials flow';
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
