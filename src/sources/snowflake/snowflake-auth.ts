import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SnowflakeSettings } from './snowflake-type.ts';

/**
 * The Authorization headers of Snowflake's SQL API: a key-pair JWT (RS256) signed with the
 * user's private key, or an OAuth access token as given. The JWT names the account and user
 * (`ACCOUNT.USER`) and the public key's fingerprint (`SHA256:` + base64 of the SHA-256 of its
 * DER form), which Snowflake matches against RSA_PUBLIC_KEY_FP of the user.
 */
export class SnowflakeAuth {
  private signingKey?: KeyObject;
  private cached?: { token: string; renewAt: number };

  constructor(private readonly settings: SnowflakeSettings, private readonly now: () => number = Date.now) {}

  get kind(): 'KEYPAIR_JWT' | 'OAUTH' {
    return 'privateKey' in this.settings.auth ? 'KEYPAIR_JWT' : 'OAUTH';
  }

  async headers(): Promise<Record<string, string>> {
    const token = 'privateKey' in this.settings.auth ? await this.jwt() : this.settings.auth.oauthToken;
    return { authorization: `Bearer ${token}`, 'x-snowflake-authorization-token-type': this.kind };
  }

  /** Forgets the JWT (Snowflake refused it): the next request signs a fresh one. */
  forget(): void {
    this.cached = undefined;
  }

  private async jwt(): Promise<string> {
    const now = this.now();
    if (this.cached && now < this.cached.renewAt) return this.cached.token;
    const key = this.key();
    const qualifiedUser = `${jwtAccount(this.settings.account)}.${this.settings.user.toUpperCase()}`;
    const issuedAt = Math.floor(now / 1000);
    // Snowflake accepts a JWT for at most an hour; renewing after 50 minutes keeps clear of the edge.
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(`${qualifiedUser}.${publicKeyFingerprint(key)}`)
      .setSubject(qualifiedUser)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + 3600)
      .sign(key);
    this.cached = { token, renewAt: now + 50 * 60_000 };
    return token;
  }

  private key(): KeyObject {
    if (!this.signingKey) {
      const auth = this.settings.auth as { privateKey: string; privateKeyPassphrase?: string };
      this.signingKey = createPrivateKey({ key: auth.privateKey, format: 'pem', passphrase: auth.privateKeyPassphrase });
    }
    return this.signingKey;
  }
}

/** `SHA256:<base64>` of the DER public key: what DESC USER shows as RSA_PUBLIC_KEY_FP. */
export function publicKeyFingerprint(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

/**
 * The account as a JWT names it: upper case, and a locator without its region and cloud
 * (`xy12345.us-east-2.aws` → `XY12345`; `myorg-myaccount` → `MYORG-MYACCOUNT`).
 */
export function jwtAccount(account: string): string {
  return account.split('.')[0]!.toUpperCase();
}
