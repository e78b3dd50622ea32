import { SyncError } from '../../errors.ts';

interface AmqpErrorLike extends Error {
  code?: string | number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** AMQP reply codes a person must fix: access refused, not found, precondition failed, not allowed. */
const CONFIG_REPLIES = new Set([403, 404, 406, 530]);

/**
 * A connection or channel failure as the SyncError the engine acts on. amqplib reports a
 * refused handshake only in its message ("Handshake terminated by server: 403 (ACCESS-REFUSED)",
 * "Expected ConnectionOpenOk" for an unknown virtual host), so those are read from it.
 */
export function toSyncError(error: unknown, prefix: string): SyncError {
  if (error instanceof SyncError) return error;
  const err = error as AmqpErrorLike;
  const text = err.message ?? String(error);
  if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) {
    return new SyncError('transient', `${prefix}: cannot reach the broker (${err.code}); retrying`, { code: err.code, cause: error });
  }
  if (err.code === 'ENOTFOUND') {
    return new SyncError('config', `${prefix}: the host does not resolve (ENOTFOUND); check \`url\``, { code: err.code, cause: error });
  }
  const handshake = /^Handshake terminated by server: (\d+)/.exec(text);
  if (handshake) {
    return new SyncError('config', `${prefix}: the broker refused the login (${handshake[1]}): check the user and password in \`url\``, { code: handshake[1], cause: error });
  }
  if (text.startsWith('Expected ConnectionOpenOk')) {
    return new SyncError('config', `${prefix}: the broker refused to open the connection: check the virtual host in \`url\` and the user's permissions on it`, { cause: error });
  }
  if (typeof err.code === 'number' && CONFIG_REPLIES.has(err.code)) {
    return new SyncError('config', `${prefix}: ${text}`, { code: String(err.code), cause: error });
  }
  return new SyncError('transient', `${prefix}: ${text}; retrying`, { code: err.code === undefined ? undefined : String(err.code), cause: error });
}
