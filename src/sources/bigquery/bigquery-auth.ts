import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { sendWithRetry, type WarehouseRetry } from '../warehouse-http.ts';
import { serviceAccountKey, type ServiceAccountKey } from './bigquery-type.ts';

export const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/bigquery.readonly';
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Google refused the service account's sign-in (a 4xx from the token endpoint). */
export class BigqueryAuthError extends Error {}

/**
 * A service account's access token: a JWT (RS256, signed with the key's private key, `kid` the
 * key's id) exchanged at the token endpoint, as Google's OAuth 2.0 for server-to-server
 * applications describes. Concurrent requests share one exchange; a token is renewed a minute
 * before it expires, or at once when BigQuery calls it invalid.
 */
export class BigqueryAuth {
  readonly key: ServiceAccountKey;
  private signingKey?: KeyObject;
  private current?: Promise<{ token: string; renewAt: number }>;

  constructor(credentials: string | ServiceAccountKey, private readonly tokenUrlSetting: string | undefined, private readonly retry: WarehouseRetry) {
    this.key = readKey(credentials);
  }

  get tokenUrl(): string {
    return this.tokenUrlSetting ?? this.key.token_uri ?? DEFAULT_TOKEN_URL;
  }

  async headers(signal: AbortSignal): Promise<Record<string, string>> {
    let held = this.current ? await this.current.catch(() => undefined) : undefined;
    if (!held || Date.now() >= held.renewAt) {
      this.current = this.exchange(signal);
      held = await this.current;
    }
    return { authorization: `Bearer ${held.token}` };
  }

  /** Forgets the token (BigQuery answered 401): the next request signs in again. */
  forget(): void {
    this.current = undefined;
  }

  private async exchange(signal: AbortSignal): Promise<{ token: string; renewAt: number }> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.key.private_key_id ? { kid: this.key.private_key_id } : {}) })
      .setIssuer(this.key.client_email)
      .setAudience(this.tokenUrl)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(this.privateKey());
    const answer = await sendWithRetry(async () => ({
      url: this.tokenUrl,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_GRANT, assertion }).toString(),
      },
    }), this.retry, signal);
    const body = (answer.body ?? {}) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (answer.status === 200 && body.access_token) {
      const lifetimeMs = (body.expires_in ?? 3600) * 1000;
      return { token: body.access_token, renewAt: Date.now() + Math.max(0, lifetimeMs - 60_000) };
    }
    const reason = body.error ? `${body.error}${body.error_description ? `: ${body.error_description}` : ''}` : answer.text.slice(0, 300);
    throw new BigqueryAuthError(`Google refused the service account ${this.key.client_email} at ${this.tokenUrl} (${answer.status} ${reason})`);
  }

  private privateKey(): KeyObject {
    this.signingKey ??= createPrivateKey({ key: this.key.private_key, format: 'pem' });
    return this.signingKey;
  }
}

function readKey(credentials: string | ServiceAccountKey): ServiceAccountKey {
  let value: unknown = credentials;
  if (typeof credentials === 'string') {
    try {
      value = JSON.parse(credentials);
    } catch {
      throw new BigqueryAuthError('credentials is not the JSON of a service account key file');
    }
  }
  const parsed = serviceAccountKey.safeParse(value);
  if (!parsed.success) throw new BigqueryAuthError('credentials lacks client_email or private_key: give the whole service account key file');
  return parsed.data;
}
