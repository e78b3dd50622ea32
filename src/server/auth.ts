import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiToken } from '../config/project.ts';

export type Role = ApiToken['role'];

interface KnownToken {
  digest: Buffer;
  role: Role;
  name: string;
}

/**
 * Bearer tokens the API accepts: LASTMILE_API_TOKEN (admin) and the project's `tokens`.
 * Tokens are compared as SHA-256 digests in constant time, so timing does not reveal them.
 */
export class TokenAuth {
  private readonly known: KnownToken[];

  constructor(projectTokens: ApiToken[], envToken: string | undefined) {
    const tokens: ApiToken[] = [...projectTokens];
    if (envToken) tokens.push({ token: envToken, role: 'admin', name: 'LASTMILE_API_TOKEN' });
    this.known = tokens.filter((t) => t.token).map((t, i) => ({ digest: digest(t.token), role: t.role, name: t.name ?? `token ${i + 1}` }));
  }

  get configured(): boolean {
    return this.known.length > 0;
  }

  /** The role of a bearer token, or undefined when it is not one of ours. */
  roleOf(authorization: string | undefined): { role: Role; name: string } | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    const candidate = digest(match[1]!);
    let found: KnownToken | undefined;
    for (const token of this.known) if (timingSafeEqual(token.digest, candidate)) found ??= token;
    return found && { role: found.role, name: found.name };
  }

  /** A Fastify preHandler that requires a token with at least `needed` role. */
  require(needed: Role) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const who = this.roleOf(request.headers.authorization);
      if (!who) {
        reply.header('www-authenticate', 'Bearer realm="lastmile"');
        return reply.code(401).send({
          statusCode: 401, error: 'Unauthorized',
          message: request.headers.authorization
            ? 'this API token is not known; use LASTMILE_API_TOKEN or a token listed under `tokens` in the config'
            : 'an API token is required: send "Authorization: Bearer <token>" (LASTMILE_API_TOKEN or a token from the config)',
        });
      }
      if (!allows(who.role, needed)) {
        return reply.code(403).send({
          statusCode: 403, error: 'Forbidden',
          message: needed === 'admin'
            ? `token "${who.name}" has the ${who.role} role; starting runs needs an admin token`
            : `token "${who.name}" has the ${who.role} role; pushing events needs a token with the events or admin role`,
        });
      }
    };
  }
}

/** admin may do everything; events may read and push events; read may only read. */
function allows(role: Role, needed: Role): boolean {
  return role === 'admin' || needed === 'read' || role === needed;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
