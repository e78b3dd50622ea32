import { randomBytes } from 'node:crypto';
import { decodeJwt, jwtVerify, type CryptoKey, type KeyObject } from 'jose';

/** A connected app of the fake org and what may sign in through it. */
export interface FakeConnectedApp {
  clientId: string;
  /** Client credentials (and optionally refresh tokens) check it. */
  clientSecret?: string;
  /** JWT bearer: the public key of the certificate uploaded to the app, and the users pre-authorized. */
  publicKey?: CryptoKey | KeyObject;
  usernames?: string[];
  refreshTokens?: string[];
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

type Answer = { status: number; body: Record<string, unknown> };
const refuse = (error: string, description: string, status = 400): Answer => ({ status, body: { error, error_description: description } });

/** `/services/oauth2/token`: client credentials, JWT bearer (RS256, iss/sub/aud/exp) and refresh tokens. */
export class FakeOAuth {
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();
  /** Tokens issued, by grant type. */
  readonly issued: Record<string, number> = {};

  constructor(
    private readonly apps: FakeConnectedApp[],
    private readonly baseUrl: () => string,
    /** Lifetime of an access token (Salesforce's session timeout). */
    public tokenTtlMs: number,
  ) {}

  async token(form: URLSearchParams): Promise<Answer> {
    const grant = form.get('grant_type');
    let clientId: string | Answer;
    if (grant === 'client_credentials') clientId = this.clientCredentials(form);
    else if (grant === JWT_GRANT) clientId = await this.jwtBearer(form.get('assertion') ?? '');
    else if (grant === 'refresh_token') clientId = this.refresh(form);
    else return refuse('unsupported_grant_type', 'grant type not supported');
    if (typeof clientId !== 'string') return clientId;

    this.issued[grant] = (this.issued[grant] ?? 0) + 1;
    const accessToken = `00D5g00000FAKE!${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { clientId, expiresAt: Date.now() + this.tokenTtlMs });
    const issuedAt = String(Date.now());
    return {
      status: 200,
      body: {
        access_token: accessToken, instance_url: this.baseUrl(), id: `${this.baseUrl()}/id/00D5g00000FAKEEAA/0055g00000FAKEAAA`,
        token_type: 'Bearer', issued_at: issuedAt, scope: 'api', signature: randomBytes(32).toString('base64'),
      },
    };
  }

  /** Whether a bearer token is known and not expired. */
  valid(header: string | undefined): boolean {
    const token = header?.replace(/^(Bearer|OAuth)\s+/i, '');
    const session = token ? this.tokens.get(token) : undefined;
    return !!session && session.expiresAt > Date.now();
  }

  /** Ends every session at once, as a session timeout or an admin's revoke would. */
  expireAll(): void {
    for (const session of this.tokens.values()) session.expiresAt = 0;
  }

  private clientCredentials(form: URLSearchParams): string | Answer {
    const app = this.apps.find((candidate) => candidate.clientId === form.get('client_id'));
    if (!app) return refuse('invalid_client_id', 'client identifier invalid');
    if (!app.clientSecret) return refuse('invalid_grant', 'no client credentials user enabled');
    if (app.clientSecret !== form.get('client_secret')) return refuse('invalid_client', 'invalid client credentials');
    return app.clientId;
  }

  private refresh(form: URLSearchParams): string | Answer {
    const app = this.apps.find((candidate) => candidate.clientId === form.get('client_id'));
    if (!app) return refuse('invalid_client_id', 'client identifier invalid');
    const secret = form.get('client_secret');
    if (secret !== null && app.clientSecret !== secret) return refuse('invalid_client', 'invalid client credentials');
    if (!app.refreshTokens?.includes(form.get('refresh_token') ?? '')) return refuse('invalid_grant', 'expired access/refresh token');
    return app.clientId;
  }

  private async jwtBearer(assertion: string): Promise<string | Answer> {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(assertion).iss;
    } catch {
      return refuse('invalid_grant', 'invalid assertion');
    }
    const app = this.apps.find((candidate) => candidate.clientId === issuer);
    if (!app?.publicKey) return refuse('invalid_client_id', 'client identifier invalid');
    try {
      const { payload } = await jwtVerify(assertion, app.publicKey, {
        algorithms: ['RS256'], issuer: app.clientId, audience: this.baseUrl(), requiredClaims: ['exp', 'sub'],
      });
      if (!app.usernames?.includes(String(payload.sub))) return refuse('invalid_grant', "user hasn't approved this consumer");
      return app.clientId;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'aud') return refuse('invalid_grant', 'audience is invalid');
      if (code === 'ERR_JWT_EXPIRED') return refuse('invalid_grant', 'expired authorization code');
      return refuse('invalid_grant', 'invalid assertion');
    }
  }
}
